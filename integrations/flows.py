"""The flow registry. Domain apps register their flows in AppConfig.ready(); integrations imports none of them.

A flow is `func(channel, *, report, since=None, dry_run=False) -> None`: it counts what it did on `report`,
sends a bad record to the issue queue with `report.issue(...)` and carries on.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Dependency order for `demo --once` and for documentation: catalog first, then orders, shipments, inventory.
FLOW_ORDER = [
    "warehouses.download",
    "catalog.download",
    "catalog.upload",
    "customers.upload",
    "orders.download",
    "orders.submit",
    "orders.acknowledge",
    "cancellations.download",
    "shipments.download",
    "shipments.upload",
    "inventory.download",
    "inventory.upload",
    "inventory.reconcile",
]

# Default schedule interval of each flow, in minutes.
DEFAULT_INTERVALS = {
    "warehouses.download": 1440,
    "catalog.download": 60,
    "catalog.upload": 60,
    "customers.upload": 60,
    "orders.download": 10,
    "orders.submit": 5,
    "orders.acknowledge": 10,
    "cancellations.download": 10,
    "shipments.download": 5,
    "shipments.upload": 5,
    "inventory.download": 30,
    "inventory.upload": 60,
    "inventory.reconcile": 1440,
}

# What a person reads instead of the flow's name: the admin, the demo summary and the alerts use these.
FLOW_LABELS = {
    "integrations.ping": "Health check",
    "warehouses.download": "Warehouse download",
    "catalog.download": "Catalog download",
    "catalog.upload": "Product upload",
    "customers.upload": "Customer upload",
    "orders.download": "Order download",
    "orders.submit": "Order submission",
    "orders.acknowledge": "Order acknowledgement",
    "cancellations.download": "Cancellation download",
    "shipments.download": "Shipment download",
    "shipments.upload": "Shipment upload",
    "inventory.download": "Inventory download",
    "inventory.upload": "Inventory upload",
    "inventory.reconcile": "Inventory reconciliation",
}


def flow_label(name: str) -> str:
    """The flow's name in words ("Order download"); a flow without a label reads as its name."""
    return FLOW_LABELS.get(name, name)


@dataclass
class IssueReport:
    record_key: str
    message: str
    payload: Any = None


@dataclass
class RunReport:
    """What a flow did: counts, per-record issues, and the records that succeeded (to resolve old issues)."""

    flow: str
    dry_run: bool = False
    seen: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    issues: list[IssueReport] = field(default_factory=list)
    succeeded_keys: set[str] = field(default_factory=set)
    lines: list[str] = field(default_factory=list)  # what a dry run would do, for the terminal

    def issue(self, record_key: str, message: str, payload: Any = None) -> None:
        self.failed += 1
        self.issues.append(IssueReport(str(record_key), message, payload))

    def succeeded(self, *record_keys: str) -> None:
        self.succeeded_keys.update(str(k) for k in record_keys)

    def say(self, line: str) -> None:
        self.lines.append(line)


FlowFunc = Callable[..., None]


@dataclass(frozen=True)
class Flow:
    name: str
    func: FlowFunc


_registry: dict[str, Flow] = {}


def register(name: str, func: FlowFunc) -> None:
    _registry[name] = Flow(name, func)


def get_flow(name: str) -> Flow:
    try:
        return _registry[name]
    except KeyError:
        raise LookupError(f"No flow named {name!r} is registered.") from None


def registered() -> list[str]:
    """Registered flow names in dependency order."""
    rank = {name: i for i, name in enumerate(FLOW_ORDER)}
    return sorted(_registry, key=lambda n: (rank.get(n, len(rank)), n))


def parse_position(position: str) -> datetime | None:
    return datetime.fromisoformat(position) if position else None
