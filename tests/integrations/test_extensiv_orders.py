"""Extensiv Order Manager orders against the sandbox over HTTP: the modified window, status and warehouse
filters, paging, listing vs master SKUs, bundles, cancellations, lookups and malformed payloads."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from integrations.connectors.capabilities import OrderAcknowledger, implements
from integrations.connectors.extensiv import ExtensivConnector
from integrations.http import BadResponse, NotFound, RetryPolicy
from integrations.runner import supported_flows

FAST = RetryPolicy(backoff=0.01)
DATA = Path(__file__).parents[1] / "data" / "extensiv"


@pytest.fixture
def om(sandbox):
    return sandbox.api("extensiv")


@pytest.fixture
def connect(sandbox, om, request):
    """ExtensivConnector(settings overrides) against the sandbox, as the channel fixtures configure it."""
    made = []

    def make(retry: RetryPolicy = FAST, credentials=None, **settings):
        connector = ExtensivConnector(
            base_url=sandbox.url("extensiv"),
            credentials=dict(om.credentials) if credentials is None else credentials,
            settings={**om.channel_settings, **settings},
            label=f"om-{request.node.name}"[:50],
            retry=retry,
            timeout=(1, 1),
        )
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


def sample(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def test_orders_download_returns_awaiting_orders_only_by_default(connect, om):
    orders = list(connect().orders_download(since=None))

    awaiting = {str(o["orderId"]) for o in om.orders.values() if o["orderStatus"] == "AWAITING_SHIPMENT"}
    assert {o.external_id for o in orders} == awaiting
    assert all(not o.cancelled for o in orders)


def test_orders_download_with_empty_statuses_returns_every_status(connect, om):
    orders = list(connect(order_statuses=[]).orders_download(since=None))

    assert len(orders) == len(om.orders)
    assert {o.status for o in orders} == {"AWAITING_SHIPMENT", "CANCELLED"}


def test_orders_download_pages_until_an_empty_page(connect, om):
    orders = list(connect(page_size=3).orders_download(since=None))

    assert len(orders) == len(om.orders) - 1  # the cancelled one is filtered out, not left unread
    assert om.calls_to("GET", r"^/v1\.1/orders$") == len(om.orders) // 3 + 2  # full pages, the rest, then []


def test_orders_download_reads_only_the_modified_window(connect, om):
    since = om.advance(60)
    changed = om.modify_order(90003, notesFromBuyer="Call first")

    orders = list(connect().orders_download(since=since))

    assert [o.external_id for o in orders] == ["90003"]
    assert orders[0].attributes["notes_from_buyer"] == "Call first"
    assert orders[0].updated_at.isoformat().startswith(changed["modifiedDate"][:19])


def test_orders_download_until_bounds_the_window(connect, om):
    before = om.advance(60)
    om.modify_order(90002, internalNotes="later")

    orders = list(connect(order_statuses=[]).orders_download(since=None, until=before))

    assert "90002" not in {o.external_id for o in orders}


def test_orders_download_filters_by_warehouse_setting(connect, om):
    orders = list(connect(warehouse_id="102").orders_download(since=None))

    east = {
        str(o["orderId"])
        for o in om.orders.values()
        if o["fulfillmentSource"]["warehouseId"] == 102 and o["orderStatus"] == "AWAITING_SHIPMENT"
    }
    assert east and {o.external_id for o in orders} == east


def test_lines_carry_listing_skus_by_default_and_master_skus_when_configured(connect, om):
    channel_only = next(row for row in om.listings.values() if row["listingSku"].startswith("CH-"))
    added = om.add_order([(channel_only["listingSku"], 2)])

    listing_line = connect().order_get(str(added["orderId"])).lines[0]
    master_line = connect(use_listing_sku=False).order_get(str(added["orderId"])).lines[0]

    assert listing_line.sku == channel_only["listingSku"]
    assert master_line.sku == channel_only["masterSku"]
    assert listing_line.quantity == master_line.quantity == 2


def test_bundle_line_is_flagged_and_left_unexpanded(connect):
    order = connect().order_get("90001")

    kit = next(line for line in order.lines if line.sku == "KIT1")
    assert kit.is_bundle and kit.bundle_parts == ()
    assert not any(line.is_bundle for line in order.lines if line.sku != "KIT1")


def test_recorded_order_maps_money_address_customer_and_attributes(connect, om):
    om.orders[90901] = sample("order_bundle.json")

    order = connect().order_get("90901")

    assert (order.number, order.status, order.currency, order.total) == (
        "SO-1001",
        "AWAITING_SHIPMENT",
        "USD",
        Decimal("59.98"),
    )
    assert order.ship_to.name == "Ann Lee" and order.ship_to.company == "Lee Outfitters"
    assert order.ship_to.line2 == "Suite 4 Back door" and order.ship_to.postal_code == "27701"
    assert order.ship_to.is_complete()
    assert order.shipping_method == "UPS 2nd Day Air"
    assert (order.customer.external_id, order.customer.email) == ("4401", "ann@example.com")
    assert order.attributes["sales_channel"] == "Shopify" and order.attributes["labels"] == ["wholesale", "rush"]
    assert order.attributes["custom_fields"] == {"customField1": "PO-778"}
    assert order.attributes["line_skus"]["1"] == {"listingSku": "SHOP-KIT-1", "masterSku": "KIT1"}
    (line,) = order.lines
    assert (line.external_id, line.sku, line.quantity, line.unit_price) == ("1", "SHOP-KIT-1", 2, Decimal("29.99"))
    assert line.is_bundle and line.product_id == "9048" and line.upc == "400000000048"
    assert order.placed_at.tzinfo is not None


def test_missing_item_quantity_is_a_bad_response_naming_the_field(connect, om):
    om.orders[90902] = sample("order_item_without_quantity.json")

    with pytest.raises(BadResponse, match="quantityOrdered"):
        connect().order_get("90902")


def test_malformed_json_is_a_bad_response(connect, om):
    om.inject("malformed", path=r"/v1\.1/orders")

    with pytest.raises(BadResponse, match="not valid JSON"):
        list(connect().orders_download(since=None))


def test_cancellations_download_returns_orders_cancelled_in_order_manager(connect, om):
    since = om.advance(60)
    om.cancel_order(90004, reason="Out of stock")

    cancelled = list(connect().cancellations_download(since=since))

    assert [o.external_id for o in cancelled] == ["90004"]
    assert cancelled[0].cancelled and cancelled[0].attributes["cancel_reason"] == "Out of stock"


def test_cancellations_download_without_since_includes_the_seeded_cancellation(connect, om):
    seeded = {str(o["orderId"]) for o in om.orders.values() if o["orderStatus"] == "CANCELLED"}

    assert {o.external_id for o in connect().cancellations_download(since=None)} == seeded


def test_order_get_unknown_id_is_not_found(connect):
    with pytest.raises(NotFound):
        connect().order_get("12345")


def test_order_by_number(connect, om):
    found = connect().order_by_number("5003")

    assert found is not None and found.external_id == str(om.order_by_number("5003")["orderId"])
    assert connect().order_by_number("no-such-number") is None


def test_acknowledge_is_not_a_capability_so_the_flow_is_not_offered():
    assert not implements(ExtensivConnector, OrderAcknowledger)
    assert "orders.acknowledge" not in supported_flows("extensiv")
