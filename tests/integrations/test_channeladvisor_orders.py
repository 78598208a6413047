"""ChannelAdvisor orders against the sandbox over HTTP: the updated-date window, the profile, status, DC
and export filters, nextLink paging, bundles, orders cut at 20 items, single orders, the export flag,
cancellations, and recorded payloads (tests/data/channeladvisor)."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from integrations.connectors.records import Address, BundlePart
from integrations.http import BadResponse, NotFound
from integrations.sandbox.channeladvisor import OUTLET_PROFILE_ID

DATA = Path(__file__).parents[1] / "data" / "channeladvisor"


def sample(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_orders_download_returns_every_order_with_its_marketplace_number(connect, ca):
    orders = list(connect().orders_download(since=None))

    assert [o.external_id for o in orders] == [str(i) for i in sorted(ca.orders)]
    assert [o.number for o in orders] == [ca.orders[i]["SiteOrderID"] for i in sorted(ca.orders)]


def test_orders_download_keeps_to_the_updated_window(connect, ca):
    stamps = sorted(o["UpdatedDateUtc"] for o in ca.orders.values())
    since, until = when(stamps[2]), when(stamps[5])

    orders = list(connect().orders_download(since=since, until=until))

    assert sorted(o.updated_at for o in orders) == [when(s) for s in stamps[2:6]]


def test_order_fields_map_to_the_record(connect, ca):
    seeded = ca.order_by_number("5003")

    order = next(o for o in connect().orders_download(since=None) if o.number == "5003")

    assert order.external_id == str(seeded["ID"])
    assert order.status == "Unshipped" and not order.cancelled
    assert order.placed_at == when(seeded["CreatedDateUtc"])
    assert order.total == Decimal(str(seeded["TotalPrice"]))
    assert order.shipping_method == "USPS Priority"
    assert order.ship_to == Address(
        name="Customer 3",
        line1="1 Main St",
        city="Durham",
        state="NC",
        postal_code="27701",
        country="US",
        phone="555-0102",
        email="buyer3@example.com",
    )
    assert order.customer.email == "buyer3@example.com"
    assert order.attributes["site"] == "Walmart Marketplace"
    assert order.attributes["payment_status"] == "Cleared"
    assert [(line.external_id, line.sku, line.quantity) for line in order.lines] == [
        (str(i["ID"]), i["Sku"], i["Quantity"]) for i in seeded["Items"]
    ]
    assert order.raw["ID"] == seeded["ID"]


def test_bundle_line_carries_its_components_already_multiplied(connect, ca):
    seeded = ca.order_by_number("5009")  # the sandbox's own order with the KIT1 bundle, 2 kits

    order = connect().order_get(str(seeded["ID"]))

    kit = next(line for line in order.lines if line.sku == "KIT1")
    assert kit.is_bundle and kit.quantity == 2
    assert kit.bundle_parts == (
        BundlePart(sku="1001-RED-X-S", quantity=4, product_id="7001"),
        BundlePart(sku="1001-RED-X-M", quantity=2, product_id="7002"),
    )
    assert not any(line.is_bundle for line in order.lines if line.sku != "KIT1")


def test_paging_follows_next_link_until_the_last_page(connect, ca):
    ca.page_size = 2

    orders = list(connect().orders_download(since=None))

    assert len(orders) == len(ca.orders) == 9
    assert len({o.external_id for o in orders}) == 9
    assert ca.calls_to("GET", r"^/v1/Orders$") == 5


def test_page_size_setting_asks_for_smaller_pages(connect, ca):
    orders = list(connect(page_size=4).orders_download(since=None))

    assert len(orders) == 9
    assert ca.calls_to("GET", r"^/v1/Orders$") == 3


def test_order_updated_while_paging_is_neither_skipped_nor_repeated(connect, ca):
    ca.page_size = 3
    first = min(ca.orders)
    orders = connect().orders_download(since=None)

    seen = [next(orders).external_id]
    ca.modify_order(first + 1, PrivateNotes="edited mid-download")  # later UpdatedDateUtc, same ID
    seen += [o.external_id for o in orders]

    assert sorted(seen) == [str(i) for i in sorted(ca.orders)]


def test_profile_filter_keeps_the_listed_profiles(connect, ca):
    orders = list(connect(profile_ids=[str(OUTLET_PROFILE_ID)]).orders_download(since=None))

    expected = {str(i) for i, o in ca.orders.items() if o["ProfileID"] == OUTLET_PROFILE_ID}
    assert {o.external_id for o in orders} == expected
    assert len(expected) == 2


def test_shipping_and_payment_status_filters(connect, ca):
    ids = sorted(ca.orders)
    ca.modify_order(ids[0], ShippingStatus="Shipped")
    ca.modify_order(ids[1], PaymentStatus="Submitted")

    orders = list(connect(shipping_status=["Unshipped"], payment_status=["Cleared"]).orders_download(since=None))

    assert {o.external_id for o in orders} == {str(i) for i in ids[2:]}


def test_distribution_center_filter_keeps_orders_fulfilled_there(connect, ca):
    east = ca.dc_id("EAST")

    orders = list(connect(distribution_center_id=str(east)).orders_download(since=None))

    expected = {str(i) for i, o in ca.orders.items() if o["Fulfillments"][0]["DistributionCenterID"] == east}
    assert {o.external_id for o in orders} == expected
    assert 0 < len(expected) < len(ca.orders)


def test_unexported_only_skips_acknowledged_orders(connect, ca):
    connector = connect(unexported_only=True)
    first = str(min(ca.orders))

    connector.order_acknowledge(external_id=first, fulfillment_number="SO-100001")

    assert first not in {o.external_id for o in connector.orders_download(since=None)}
    assert first in {o.external_id for o in connect().orders_download(since=None)}


def test_order_acknowledge_marks_the_order_exported(connect, ca):
    order_id = min(ca.orders)

    connect().order_acknowledge(external_id=str(order_id), fulfillment_number="SO-100001")

    assert ca.exported == {order_id}
    assert ca.calls_to("POST", rf"^/v1/Orders\({order_id}\)/Export$") == 1


def test_order_acknowledge_is_retried_after_a_server_error(connect, ca):
    order_id = min(ca.orders)
    ca.inject("status", times=1, status=503, method="POST", path="/Export$")

    connect().order_acknowledge(external_id=str(order_id), fulfillment_number="SO-100001")

    assert ca.exported == {order_id}


def test_order_unacknowledge_clears_the_flag(connect, ca):
    order_id = min(ca.orders)
    connector = connect()
    connector.order_acknowledge(external_id=str(order_id), fulfillment_number="SO-100001")

    connector.order_unacknowledge(str(order_id))

    assert ca.exported == set()


def test_order_with_more_than_20_items_is_fetched_whole(connect, ca):
    big = ca.add_order([(f"GM50{1 + n % 2}", 1) for n in range(25)])

    orders = list(connect().orders_download(since=when(big["UpdatedDateUtc"])))

    assert [o.external_id for o in orders] == [str(big["ID"])]
    assert len(orders[0].lines) == 25
    assert ca.calls_to("GET", rf"^/v1/Orders\({big['ID']}\)$") == 1


def test_order_get_unknown_id_is_not_found(connect):
    with pytest.raises(NotFound) as caught:
        connect().order_get("999999")

    assert caught.value.status == 404


def test_cancellations_download_returns_cancelled_orders_only(connect, ca):
    since = ca.advance()
    cancelled = ca.cancel_order(min(ca.orders))
    ca.modify_order(max(ca.orders), PrivateNotes="changed, not cancelled")

    orders = list(connect().cancellations_download(since=since))

    assert [(o.external_id, o.cancelled) for o in orders] == [(str(cancelled["ID"]), True)]


def test_recorded_payload_maps_to_the_record(connect, ca):
    ca.orders[1001] = sample("order_bundle.json")

    order = connect().order_get("1001")

    assert (order.number, order.shipping_method, order.total) == ("112-000-111", "UPS Ground", Decimal("59.98"))
    assert order.bill_to.city == "Raleigh" and order.ship_to.line2 == "Apt 2"
    assert order.customer.external_id == "ann.lee@example.com"
    assert order.attributes["tags"] == ["VIP", "Repeat"]
    assert order.attributes["public_notes"] == "Leave at the door"
    assert "private_notes" not in order.attributes
    assert order.lines[0].bundle_parts == (BundlePart("PART-A", 4, "778"), BundlePart("PART-B", 2, "779"))
    assert order.lines[0].unit_price == Decimal("29.99")


def test_item_without_quantity_is_bad_response_naming_field_and_order(connect, ca):
    ca.orders[1002] = sample("order_item_without_quantity.json")

    with pytest.raises(BadResponse) as caught:
        list(connect().orders_download(since=datetime(2024, 3, 9, tzinfo=UTC), until=datetime(2024, 3, 10, tzinfo=UTC)))

    assert "'Quantity'" in str(caught.value)
    assert "order 1002 item 5002" in str(caught.value)


def test_naive_dates_are_refused(connect):
    with pytest.raises(ValueError, match="aware"):
        list(connect().orders_download(since=datetime(2026, 11, 1) - timedelta(days=1)))
