"""NuORDER orders: download by status and modified date, lines per size, acknowledge (processed + number)."""

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from integrations.connectors.nuorder import NuOrderConnector
from integrations.connectors.nuorder.parse import order_from_json
from integrations.connectors.records import Address, BadRecord
from integrations.http import BadResponse, Conflict, NotFound, RetryPolicy

SAMPLE = Path(__file__).parents[1] / "data" / "nuorder" / "order_approved.json"


@pytest.fixture
def api(sandbox):
    return sandbox.api("nuorder")


@pytest.fixture
def nuorder(api):
    made = []

    def make(**settings) -> NuOrderConnector:
        connector = NuOrderConnector(
            base_url=api.base_url,
            credentials=api.credentials,
            settings={**api.channel_settings, **settings},
            label="nuorder-test",
            retry=RetryPolicy(backoff=0.01),
            timeout=(1, 1),
        )
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


def _approved(api) -> dict:
    return next(o for o in api.orders.values() if o["status"] == "approved")


def test_orders_download_returns_approved_orders_by_default(api, nuorder):
    orders = list(nuorder().orders_download(since=None))
    expected = {o["_id"] for o in api.orders.values() if o["status"] == "approved"}
    assert {o.external_id for o in orders} == expected
    assert {o.status for o in orders} == {"approved"}
    assert len(expected) < len(api.orders)  # the seeded pending/processed orders were left out


def test_orders_download_takes_the_statuses_from_settings(api, nuorder):
    orders = list(nuorder(order_statuses=["approved", "pending"]).orders_download(since=None))
    assert {o.status for o in orders} == {"approved", "pending"}
    assert len(orders) == len({o.external_id for o in orders})


def test_orders_download_keeps_orders_modified_since(api, nuorder):
    connector = nuorder()
    latest = max(o.updated_at for o in connector.orders_download(since=None))
    touched = api.modify_order(_approved(api)["_id"], notes="ship early")
    orders = list(connector.orders_download(since=latest + timedelta(milliseconds=1)))
    assert [o.external_id for o in orders] == [touched["_id"]]
    assert orders[0].attributes["notes"] == "ship early"


def test_orders_download_until_is_exclusive(api, nuorder):
    connector = nuorder()
    orders = sorted(connector.orders_download(since=None), key=lambda o: o.updated_at)
    window = list(connector.orders_download(since=orders[0].updated_at, until=orders[1].updated_at))
    assert [o.external_id for o in window] == [orders[0].external_id]


def test_order_lines_are_the_ordered_sizes_keyed_by_their_upc(api, nuorder):
    raw = _approved(api)
    order = nuorder().order_get(raw["_id"])
    ordered = [(item["product"], size) for item in raw["line_items"] for size in item["sizes"] if size["quantity"] > 0]
    assert any(size["quantity"] == 0 for item in raw["line_items"] for size in item["sizes"])  # grids carry zeros
    assert len(order.lines) == len(ordered)
    for line, (product, size) in zip(order.lines, ordered, strict=True):
        assert line.external_id == f"{product['_id']}:{size['size']}"
        assert line.sku == size["upc"]  # every seeded size has one
        assert line.listing_data == {
            "variant": {"style": product["style_number"], "color": product["color"], "size": size["size"]}
        }
        assert (line.upc, line.product_id, line.quantity) == (size["upc"], product["_id"], size["quantity"])
        assert line.unit_price == Decimal(str(size["price"]))


def test_order_carries_number_customer_addresses_and_dates(api, nuorder):
    raw = _approved(api)
    order = nuorder().order_get(raw["_id"])
    assert order.number == raw["order_number"]
    assert order.customer.external_id == raw["retailer"]["_id"]
    assert order.customer.code == raw["retailer"]["retailer_code"]
    assert order.ship_to.line1 == raw["shipping_address"]["line_1"]
    assert order.ship_to.postal_code == raw["shipping_address"]["zip"]
    assert order.ship_to.company == raw["retailer"]["retailer_name"]
    assert order.ship_to.is_complete()
    assert order.placed_at.isoformat().startswith(raw["created_on"][:19])
    assert order.attributes["customer_po_number"] == raw["customer_po_number"]


def test_same_product_and_size_twice_get_distinct_line_ids(api, nuorder):
    raw = _approved(api)
    raw["line_items"].append(json.loads(json.dumps(raw["line_items"][0])))
    ids = [line.external_id for line in nuorder().order_get(raw["_id"]).lines]
    assert len(ids) == len(set(ids))
    assert any(i.endswith(":2") for i in ids)


def test_recorded_sample_parses_and_the_sandbox_serves_the_same_keys(api, nuorder):
    sample = json.loads(SAMPLE.read_text())
    order = order_from_json(nuorder().reader, sample)
    assert [(line.sku, line.quantity, line.upc) for line in order.lines] == [
        ("000000000017", 1, "000000000017"),
        ("000000000024", 4, "000000000024"),
    ]
    assert order.customer.name == "Shop A"
    served = nuorder().http.json(nuorder().http.get(f"/api/order/{_approved(api)['_id']}"))
    ignored = {"additional_percentage", "rep_code", "rep_email", "split"}  # seen in cassettes, unused by us
    assert set(sample) - ignored <= set(served)
    assert set(sample["line_items"][0]["product"]) <= set(served["line_items"][0]["product"])


def test_missing_field_is_a_bad_response_naming_it(api, nuorder):
    raw = _approved(api)
    del raw["line_items"][0]["sizes"][0]["quantity"]
    with pytest.raises(BadResponse, match="'quantity'"):
        nuorder().order_get(raw["_id"])


def test_an_unreadable_order_in_a_download_comes_as_a_bad_record_and_the_rest_follow(api, nuorder):
    raw = _approved(api)
    del raw["order_number"]
    records = list(nuorder().orders_download(since=None))
    [bad] = [r for r in records if isinstance(r, BadRecord)]
    assert (bad.external_id, bad.raw) == (raw["_id"], raw)
    assert "'order_number'" in bad.reason
    assert len(records) == sum(1 for o in api.orders.values() if o["status"] == "approved")


def test_an_unreadable_cancellation_still_names_its_order(api, nuorder):
    raw = api.cancel_order(_approved(api)["_id"])
    raw["line_items"] = "garbled"
    assert list(nuorder().cancellations_download(since=None)) == [raw["_id"]]


def test_unknown_order_is_not_found_with_the_channel_message(nuorder):
    with pytest.raises(NotFound, match="Order 6bffffffffffffffffffffff not found"):
        nuorder().order_get("6bffffffffffffffffffffff")


def test_order_get_by_number(api, nuorder):
    raw = _approved(api)
    assert nuorder().order_get_by_number(raw["order_number"]).external_id == raw["_id"]


def test_acknowledge_marks_processed_then_replaces_the_number(api, nuorder):
    raw = _approved(api)
    nuorder().order_acknowledge(external_id=raw["_id"], fulfillment_number="FUL-9001")
    assert (api.order(raw["_id"])["status"], api.order(raw["_id"])["order_number"]) == ("processed", "FUL-9001")
    posts = [path for method, path in api.calls if method == "POST"]
    assert posts == [f"/api/order/{raw['_id']}/processed", f"/api/order/{raw['_id']}"]


def test_acknowledge_again_sends_nothing(api, nuorder):
    raw = _approved(api)
    connector = nuorder()
    connector.order_acknowledge(external_id=raw["_id"], fulfillment_number="FUL-9001")
    api.calls.clear()
    connector.order_acknowledge(external_id=raw["_id"], fulfillment_number="FUL-9001")
    assert [method for method, _ in api.calls] == ["GET"]


def test_acknowledge_finishes_the_number_when_only_processed_got_through(api, nuorder):
    raw = _approved(api)
    api.set_status(raw["_id"], "processed")
    nuorder().order_acknowledge(external_id=raw["_id"], fulfillment_number="FUL-9002")
    assert api.order(raw["_id"])["order_number"] == "FUL-9002"
    assert api.calls_to("POST", r"/processed$") == 0


def test_acknowledge_survives_a_lost_answer(api, nuorder):
    raw = _approved(api)
    api.inject("drop_after", method="POST", path=r"/processed$")
    nuorder().order_acknowledge(external_id=raw["_id"], fulfillment_number="FUL-9003")
    assert (api.order(raw["_id"])["status"], api.order(raw["_id"])["order_number"]) == ("processed", "FUL-9003")
    assert api.calls_to("POST", r"/processed$") == 2  # applied, answer lost, repeated: a status set is idempotent


def test_acknowledge_refuses_a_cancelled_order(api, nuorder):
    raw = _approved(api)
    api.cancel_order(raw["_id"])
    with pytest.raises(Conflict, match="cancelled"):
        nuorder().order_acknowledge(external_id=raw["_id"], fulfillment_number="FUL-1")
    assert api.order(raw["_id"])["status"] == "cancelled"


def test_acknowledge_with_a_number_another_order_has_is_a_conflict(api, nuorder):
    first, second = [o for o in api.orders.values() if o["status"] == "approved"][:2]
    with pytest.raises(Conflict, match="already used"):
        nuorder().order_acknowledge(external_id=first["_id"], fulfillment_number=second["order_number"])


def test_cancellations_download_returns_cancelled_orders_since(api, nuorder):
    connector = nuorder()
    assert list(connector.cancellations_download(since=None)) == []
    raw = api.cancel_order(_approved(api)["_id"])
    cancelled = list(connector.cancellations_download(since=None))
    assert [(o.external_id, o.cancelled) for o in cancelled] == [(raw["_id"], True)]


def test_added_order_is_downloaded(api, nuorder):
    sku = api.world.sellable[0].sku
    added = api.add_order(lines=[(sku, 3)])
    order = nuorder().order_get(added["_id"])
    assert [(line.upc, line.quantity) for line in order.lines] == [(api.world.item(sku).upc, 3)]
    assert order.external_id in {o.external_id for o in nuorder().orders_download(since=None)}


RECORDED = Path(__file__).parents[1] / "data" / "nuorder" / "orders_recorded.json"


def test_countries_sent_as_names_become_iso_codes_and_the_name_is_kept(nuorder):
    first, second, polish = (order_from_json(nuorder().reader, o) for o in json.loads(RECORDED.read_text()))
    assert (first.ship_to.country, first.bill_to.country) == ("US", "US")
    assert first.attributes["shipping_address_country"] == "United States"
    assert first.attributes["billing_address_country"] == "USA"
    assert polish.ship_to.country == "PL"
    assert second.number == "100589-2" and second.ship_to == Address()  # the split half with no shipping address
