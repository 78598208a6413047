"""NuORDER shipments: appended to the order's `shipments`, never twice; shipped only when the order is complete."""

from datetime import UTC, datetime

import pytest

from integrations.connectors.nuorder import NuOrderConnector
from integrations.connectors.records import ShipmentLineRecord, ShipmentRecord
from integrations.http import BadResponse, ClientError, RetryPolicy


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


def _order_and_lines(api, nuorder):
    raw = next(o for o in api.orders.values() if o["status"] == "processed")
    return raw, nuorder().order_get(raw["_id"]).lines


def _shipment(lines, *, external_id="SHP-1", tracking="1Z999", complete=False, quantity=None) -> ShipmentRecord:
    return ShipmentRecord(
        external_id=external_id,
        order_number="",
        tracking_number=tracking,
        carrier="UPS",
        service="Ground",
        shipped_at=datetime(2026, 11, 20, 15, 0, tzinfo=UTC),
        lines=tuple(ShipmentLineRecord(line.external_id, line.sku, quantity or line.quantity) for line in lines),
        order_complete=complete,
    )


def test_upload_appends_the_shipment_with_tracking_and_sizes(api, nuorder):
    raw, lines = _order_and_lines(api, nuorder)
    nuorder().shipment_upload(external_id=raw["_id"], shipment=_shipment(lines[:1], quantity=1))
    stored = api.order(raw["_id"])["shipments"]
    assert len(stored) == 1
    assert stored[0]["tracking_numbers"] == ["1Z999"]
    assert stored[0]["external_id"] == "SHP-1"
    product_id, size = lines[0].external_id.split(":")
    assert stored[0]["line_items"] == [
        {
            "product": {
                k: v for k, v in raw["line_items"][0]["product"].items() if k in ("_id", "style_number", "color")
            },
            "sizes": [{"size": size, "upc": lines[0].upc, "quantity": 1}],
        }
    ]
    assert stored[0]["line_items"][0]["product"]["_id"] == product_id


def test_order_stays_open_until_the_shipment_that_completes_it(api, nuorder):
    raw, lines = _order_and_lines(api, nuorder)
    connector = nuorder()
    connector.shipment_upload(external_id=raw["_id"], shipment=_shipment(lines[:1]))
    assert api.order(raw["_id"])["status"] == "processed"
    last = _shipment(lines[1:], external_id="SHP-2", tracking="1Z998", complete=True)
    connector.shipment_upload(external_id=raw["_id"], shipment=last)
    assert api.order(raw["_id"])["status"] == "shipped"
    assert len(api.order(raw["_id"])["shipments"]) == 2


def test_shipments_list_reads_back_what_was_uploaded(api, nuorder):
    raw, lines = _order_and_lines(api, nuorder)
    connector = nuorder()
    sent = _shipment(lines)
    connector.shipment_upload(external_id=raw["_id"], shipment=sent)
    [back] = connector.shipments_list(raw["_id"])
    assert (back.external_id, back.tracking_number, back.carrier, back.order_number) == (
        "SHP-1",
        "1Z999",
        "UPS",
        raw["_id"],
    )
    assert back.shipped_at == sent.shipped_at
    assert [(line.line_ref, line.sku, line.quantity) for line in back.lines] == [
        (line.line_ref, line.sku, line.quantity) for line in sent.lines
    ]


def test_uploading_the_same_shipment_again_adds_nothing(api, nuorder):
    raw, lines = _order_and_lines(api, nuorder)
    connector = nuorder()
    connector.shipment_upload(external_id=raw["_id"], shipment=_shipment(lines))
    connector.shipment_upload(external_id=raw["_id"], shipment=_shipment(lines))
    assert len(api.order(raw["_id"])["shipments"]) == 1
    assert api.calls_to("POST", rf"^/api/order/{raw['_id']}$") == 1


def test_a_lost_answer_is_retried_without_a_second_shipment(api, nuorder):
    raw, lines = _order_and_lines(api, nuorder)
    api.inject("drop_after", method="POST", path=rf"^/api/order/{raw['_id']}$")
    nuorder().shipment_upload(external_id=raw["_id"], shipment=_shipment(lines, complete=True))
    assert api.calls_to("POST", rf"^/api/order/{raw['_id']}$") == 2  # sent twice, the array set once
    assert len(api.order(raw["_id"])["shipments"]) == 1
    assert api.order(raw["_id"])["status"] == "shipped"


def test_a_shipment_entered_by_hand_with_the_same_tracking_is_not_duplicated(api, nuorder):
    raw, lines = _order_and_lines(api, nuorder)
    api.modify_order(raw["_id"], shipments=[{"type": "manual", "tracking_numbers": ["1Z999"], "line_items": []}])
    nuorder().shipment_upload(external_id=raw["_id"], shipment=_shipment(lines))
    assert len(api.order(raw["_id"])["shipments"]) == 1


def test_a_line_not_on_the_order_is_refused_before_sending(api, nuorder):
    raw, _ = _order_and_lines(api, nuorder)
    bad = ShipmentRecord(
        external_id="SHP-X", order_number="", tracking_number="1Z1", lines=(ShipmentLineRecord("nope:S", "X", 1),)
    )
    with pytest.raises(ClientError, match="'nope:S' is not on order"):
        nuorder().shipment_upload(external_id=raw["_id"], shipment=bad)
    assert api.order(raw["_id"])["shipments"] == []
    assert api.calls_to("POST", r".") == 0


def test_malformed_shipments_in_the_order_are_a_bad_response(api, nuorder):
    raw, _ = _order_and_lines(api, nuorder)
    api.order(raw["_id"])["shipments"] = [{"tracking_numbers": ["1Z"], "line_items": [{"product": {"_id": "p"}}]}]
    with pytest.raises(BadResponse, match="'style_number'"):
        nuorder().shipments_list(raw["_id"])
