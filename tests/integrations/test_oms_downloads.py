"""The OMS connector's downloads against the sandbox OMS over HTTP: paging, `since`, and bad answers."""

import time
from datetime import date, timedelta, timezone
from decimal import Decimal

import pytest

from integrations.connectors.oms import OmsConnector
from integrations.connectors.records import Address, FulfillmentLine, FulfillmentOrder
from integrations.http import BadResponse, RateLimit, RateLimited, RetryPolicy

ADDRESS = Address(name="Ann Lee", line1="1 Main St", city="Boston", postal_code="02110", country="US")


@pytest.fixture
def oms(sandbox):
    return sandbox.api("oms")


@pytest.fixture
def make_connector(sandbox, oms):
    made = []

    def make(page_size: int = 10, attempts: int = 5, requests_per_second: int = 0) -> OmsConnector:
        connector = OmsConnector(
            base_url=sandbox.url("oms"),
            credentials=oms.credentials,
            settings={"page_size": page_size, "requests_per_second": requests_per_second},
            label=f"oms-downloads-test-{len(made)}",
            retry=RetryPolicy(attempts=attempts, backoff=0.01),
            timeout=(1, 1),
        )
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


@pytest.fixture
def connector(make_connector):
    return make_connector()


def submitted(connector: OmsConnector, reference: str) -> str:
    lines = (FulfillmentLine("L1", "1001-RED-X-S", 3), FulfillmentLine("L2", "GM502", 1))
    order = FulfillmentOrder(f"key-{reference}", reference, "ca", ADDRESS, ADDRESS, "UPS", lines)
    return connector.order_submit(order).number


def test_items_download_reads_every_page(connector, oms):
    items = list(connector.items_download(since=None))

    assert [i.sku for i in items] == list(oms.items)  # seeded in order, so updated_at order is seed order
    assert oms.calls_to("GET", "/api/v1/items$") == 5  # 48 items, 10 a page


def test_items_download_maps_bundles_and_prices(connector):
    items = {i.sku: i for i in connector.items_download(since=None)}

    assert items["KIT1"].components == (("1001-RED-X-S", 2), ("1001-RED-X-M", 1))
    first = items["1001-RED-X-S"]
    assert (first.item_number, first.color_code, first.prepack_run, first.size) == ("1001", "RED", "X", "S")
    assert (first.wholesale_price, first.retail_price, first.upc) == (
        Decimal("10.00"),
        Decimal("20.00"),
        "400000000001",
    )
    assert items["GM501"].color_code == "" and items["GM501"].components == ()


def test_items_download_since_returns_only_what_changed_after(connector, oms):
    since = oms.advance()
    oms.deactivate_item("GM501")
    oms.update_item("1001-RED-X-S", retail_price="25")

    changed = list(connector.items_download(since=since))

    assert [(i.sku, i.active, i.retail_price) for i in changed] == [
        ("GM501", False, Decimal("20.00")),
        ("1001-RED-X-S", True, Decimal("25.00")),
    ]
    assert all(i.updated_at > since for i in changed)


def test_since_in_another_timezone_means_the_same_instant(connector, oms):
    since = oms.advance()
    oms.add_item("NEW-1", description="New")

    east = since.astimezone(timezone(timedelta(hours=-5)))

    assert [i.sku for i in connector.items_download(since=east)] == ["NEW-1"]


def test_inventory_download_pages_through_every_item_and_warehouse(make_connector, oms):
    levels = list(make_connector(page_size=50).inventory_download(since=None))

    assert {(s.sku, s.warehouse) for s in levels} == set(oms.stock)
    assert len(levels) == 144 and oms.calls_to("GET", "/api/v1/inventory$") == 3
    assert all(s.available == max(0, s.on_hand - s.allocated) for s in levels)


def test_inventory_download_since_sees_a_stock_change(connector, oms):
    since = oms.advance()
    oms.set_stock("GM501", "EAST", on_hand=12, allocated=4)

    levels = list(connector.inventory_download(since=since))

    assert [(s.sku, s.warehouse, s.on_hand, s.allocated, s.available) for s in levels] == [("GM501", "EAST", 12, 4, 8)]


def test_row_changed_while_paging_is_read_again_not_skipped(connector, oms):
    rows = connector.inventory_download(since=None)
    first_page = [next(rows) for _ in range(10)]
    oms.set_stock(first_page[0].sku, first_page[0].warehouse, on_hand=99)
    rest = list(rows)

    seen = [(s.sku, s.warehouse) for s in first_page + rest]
    assert set(seen) == set(oms.stock)  # nothing skipped
    assert (rest[-1].sku, rest[-1].warehouse, rest[-1].on_hand) == (first_page[0].sku, first_page[0].warehouse, 99)


def test_supply_download_and_a_closed_line(connector, oms):
    everything = list(connector.supply_download(since=None))
    seeded = len(oms.supply)
    since = oms.advance()
    closed = oms.close_supply("SUP-0001")
    added = oms.add_supply("GM502", "EAST", 30, date(2026, 12, 24), "PO-9001")

    changed = list(connector.supply_download(since=since))

    assert len(everything) == seeded
    assert all(isinstance(s.expected_date, date) and s.purchase_order.startswith("PO-") for s in everything)
    assert [(s.sku, s.quantity) for s in changed] == [(closed["sku"], 0), ("GM502", 30)]
    assert (changed[1].warehouse, changed[1].expected_date, changed[1].purchase_order) == (
        added["warehouse"],
        date(2026, 12, 24),
        "PO-9001",
    )


def test_shipments_download_with_lines_and_since(connector, oms):
    first, second = submitted(connector, "5001"), submitted(connector, "5002")
    oms.ship(first, {"L1": 2}, tracking="1ZFIRST", carrier="FedEx", service="Home")
    since = oms.advance()
    oms.ship(second, tracking="")
    oms.set_tracking("SH-000002", "1ZLATER")

    everything = list(connector.shipments_download(since=None))
    changed = list(connector.shipments_download(since=since))

    assert [(s.external_id, s.order_number, s.tracking_number) for s in everything] == [
        ("SH-000001", first, "1ZFIRST"),
        ("SH-000002", second, "1ZLATER"),
    ]
    shipped = everything[0]
    assert (shipped.carrier, shipped.service, shipped.invoice_number, shipped.warehouse) == (
        "FedEx",
        "Home",
        "INV-000001",
        "MAIN",
    )
    assert [(line.line_ref, line.sku, line.quantity) for line in shipped.lines] == [("L1", "1001-RED-X-S", 2)]
    assert shipped.shipped_at is not None and shipped.shipped_at < since
    assert [s.external_id for s in changed] == ["SH-000002"]
    assert [(line.line_ref, line.quantity) for line in changed[0].lines] == [("L1", 3), ("L2", 1)]


def test_warehouses_download(connector):
    warehouses = connector.warehouses_download()

    assert [(w.external_id, w.code, w.name, w.active) for w in warehouses] == [
        ("MAIN", "MAIN", "Main warehouse", True),
        ("EAST", "EAST", "East coast", True),
        ("FBA", "FBA", "Amazon FBA", True),
    ]


def test_malformed_json_is_a_bad_response(connector, oms):
    oms.inject("malformed", path="/api/v1/inventory$")

    with pytest.raises(BadResponse, match="not valid JSON"):
        list(connector.inventory_download(since=None))


def test_missing_stock_field_is_a_bad_response_naming_it(connector, oms):
    del oms.stock[("1001-RED-X-S", "MAIN")]["on_hand"]

    with pytest.raises(BadResponse, match="field 'on_hand' is missing in inventory row 1001-RED-X-S"):
        list(connector.inventory_download(since=None))


def test_missing_item_field_is_a_bad_response_naming_it(connector, oms):
    del oms.items["GM501"]["item_number"]

    with pytest.raises(BadResponse, match="field 'item_number' is missing in item GM501"):
        list(connector.items_download(since=None))


def test_missing_shipment_line_field_is_a_bad_response_naming_it(connector, oms):
    oms.ship(submitted(connector, "5001"))
    del oms.shipments["SH-000001"]["lines"][0]["quantity"]

    with pytest.raises(BadResponse, match="field 'quantity' is missing in shipment SH-000001 line 1"):
        list(connector.shipments_download(since=None))


def test_missing_locked_flag_is_a_bad_response_naming_it(connector, oms):
    number = submitted(connector, "5001")
    del oms.orders[number]["locked"]

    with pytest.raises(BadResponse, match="field 'locked' is missing"):
        connector.order_status(number)


def test_unknown_order_status_is_a_bad_response(connector, oms):
    number = submitted(connector, "5001")
    oms.orders[number]["status"] = "on_hold"

    with pytest.raises(BadResponse, match="unknown value: 'on_hold'"):
        connector.order_status(number)


def test_429_waits_for_retry_after_then_retries(connector, oms):
    oms.inject("status", status=429, retry_after=0.3, path="/api/v1/warehouses$")
    started = time.monotonic()

    warehouses = connector.warehouses_download()

    assert len(warehouses) == 3 and oms.faults == []
    assert time.monotonic() - started >= 0.3


def test_429_beyond_the_attempts_is_rate_limited(make_connector, oms):
    oms.inject("status", times=2, status=429, retry_after=0.01)

    with pytest.raises(RateLimited):
        make_connector(attempts=2).warehouses_download()


def test_requests_per_second_setting_limits_the_client(make_connector, oms):
    limited = make_connector(page_size=8, requests_per_second=5)  # 48 items: 6 pages, one more than the burst
    started = time.monotonic()
    list(limited.items_download(since=None))

    assert limited.http.limiter.limit == RateLimit(per_second=5, burst=5)
    assert time.monotonic() - started >= 0.15
    assert make_connector(requests_per_second=0).http.limiter is None
