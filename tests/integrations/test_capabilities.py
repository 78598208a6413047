"""The contract between flows and connectors: support derived from capabilities, the flow registry, and mypy
refusing a connector that claims a capability it does not implement."""

import textwrap
from pathlib import Path

import pytest
from mypy import api as mypy_api

from integrations import flows
from integrations.connectors.capabilities import (
    OrderAcknowledger,
    OrderSource,
    capabilities_of,
    capability,
)
from integrations.connectors.oms import OmsConnector
from integrations.http import ChannelError
from integrations.runner import supported_flows

ROOT = Path(__file__).resolve().parents[2]

# What each connector supported when it declared its flows as strings (less orders.delete/orders.status, which were
# never flows, and ChannelAdvisor's inventory.download, which was the reconciliation: migration 0002 in inventory).
SUPPORTED = {
    "oms": {"orders.submit", "shipments.download", "inventory.download", "catalog.download", "warehouses.download"},
    "channeladvisor": {
        "orders.download",
        "orders.acknowledge",
        "cancellations.download",
        "shipments.upload",
        "inventory.upload",
        "inventory.reconcile",
        "catalog.download",
        "warehouses.download",
    },
    "nuorder": {
        "orders.download",
        "orders.acknowledge",
        "cancellations.download",
        "shipments.upload",
        "inventory.upload",
        "inventory.reconcile",
        "catalog.upload",
        "customers.upload",
        "warehouses.download",
    },
    "extensiv": {
        "orders.download",
        "cancellations.download",
        "shipments.upload",
        "inventory.upload",
        "inventory.reconcile",
        "catalog.download",
        "warehouses.download",
    },
}


@pytest.mark.parametrize("kind", sorted(SUPPORTED))
def test_supported_flows_are_derived_from_the_capabilities_of_the_class(kind):
    assert set(supported_flows(kind)) == SUPPORTED[kind] | {"integrations.ping"}


def test_a_flow_is_not_supported_on_a_channel_of_the_other_role():
    assert "orders.submit" not in supported_flows("oms", role="sales")
    assert "inventory.download" not in supported_flows("channeladvisor")


def test_capability_returns_the_connector_when_its_class_implements_it():
    connector = OmsConnector(base_url="http://127.0.0.1:9", credentials={"api_key": "k"})
    assert OrderAcknowledger not in capabilities_of(OmsConnector)
    with pytest.raises(ChannelError, match="cannot do OrderSource"):
        capability(connector, OrderSource)
    connector.close()


def test_every_flow_runs_after_the_flows_it_names():
    order = flows.registered()
    for flow in flows._registry.values():
        for before in flow.after:
            assert order.index(before) < order.index(flow.name), (before, flow.name)
    assert order[-1] == "integrations.ping"


def test_a_name_declared_for_two_roles_runs_a_different_function_on_each():
    assert flows.get_flow("catalog.download", "fulfillment").func.__name__ == "catalog_items_download"
    assert flows.get_flow("catalog.download", "sales").func.__name__ == "catalog_listings_download"
    with pytest.raises(LookupError):
        flows.get_flow("inventory.download", "sales")


def test_integrations_names_no_domain_flow():
    """The plumbing's code (comments aside) names no flow of a domain app; the demo command, which tours the
    whole product against the sandbox, is the one exception."""
    plumbing = [
        path
        for path in (ROOT / "integrations").rglob("*.py")
        if not {"sandbox", "migrations"} & set(path.parts) and path.name != "demo.py"
    ]
    domain = {name for name, _ in flows._registry if not name.startswith("integrations.")}
    for path in plumbing:
        code = "\n".join(line.split("#")[0] for line in path.read_text().splitlines())
        assert not [name for name in domain if f'"{name}"' in code], path


def test_mypy_refuses_a_connector_missing_a_method_of_a_capability_it_claims(tmp_path):
    source = tmp_path / "half_connector.py"
    source.write_text(
        textwrap.dedent(
            """
            from typing import final
            from integrations.connectors.base import Connector
            from integrations.connectors.capabilities import OrderAcknowledger, OrderSource

            @final
            class HalfConnector(Connector, OrderSource, OrderAcknowledger):
                kind = "half"

                def order_acknowledge(self, *, external_id: str, fulfillment_number: int) -> None: ...
            """
        )
    )
    out, _, status = mypy_api.run(
        [str(source), "--config-file=", "--follow-imports=silent", f"--cache-dir={tmp_path / 'cache'}"]
    )
    assert status == 1
    assert 'has abstract attributes "order_get", "orders_download"' in out
    assert 'Argument 2 of "order_acknowledge" is incompatible with supertype' in out
