"""Extensiv Order Manager ship confirmation against the sandbox over HTTP: PUT /v1.1/shipment/external for
a whole order or per item, reading back what OM already has, and no blind resend of a non-idempotent upload."""

from datetime import UTC, datetime

import pytest

from integrations.connectors.extensiv import ExtensivConnector
from integrations.connectors.records import ShipmentLineRecord, ShipmentRecord
from integrations.http import ClientError, NotFound, RetryPolicy, ServerError, TransportError

FAST = RetryPolicy(backoff=0.01)


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


def shipment(order_id: str, tracking: str = "1Z999", lines: tuple[ShipmentLineRecord, ...] = ()) -> ShipmentRecord:
    return ShipmentRecord(
        external_id=f"S-{tracking}",
        order_number=order_id,
        tracking_number=tracking,
        carrier="UPS",
        service="Ground",
        shipped_at=datetime(2026, 11, 4, 15, 30, tzinfo=UTC),
        lines=lines,
    )


def test_whole_order_upload_marks_it_shipped_with_tracking(connect, om):
    connect().shipment_upload(external_id="90001", shipment=shipment("90001"))

    (recorded,) = om.shipments_of(90001)
    assert om.orders[90001]["orderStatus"] == "SHIPPED"
    assert recorded["trackingNumber"] == "1Z999" and recorded["shipDate"] == "2026-11-04T15:30:00Z"
    assert recorded["shipMethod"]["shippingCarrier"] == "UPS"
    assert sum(i["quantity"] for i in recorded["items"]) == sum(
        i["quantityOrdered"] for i in om.orders[90001]["orderItems"]
    )


def test_upload_body_is_the_documented_envelope(connect, om):
    connect().shipment_upload(external_id="90002", shipment=shipment("90002"))

    (body,) = om.uploads
    assert body["notifyCustomer"] is False and body["updateChannel"] is True
    assert body["shipments"]["orderId"] == 90002 and body["shipments"]["trackingNumber"] == "1Z999"
    assert "items" not in body["shipments"]  # no lines: the whole order ships


def test_partial_shipment_by_line_keeps_the_order_open_until_every_item_ships(connect, om):
    items = om.orders[90002]["orderItems"]
    first = ShipmentLineRecord(str(items[0]["orderItemId"]), items[0]["listingSku"], items[0]["quantityOrdered"])
    rest = tuple(ShipmentLineRecord(str(i["orderItemId"]), i["listingSku"], i["quantityOrdered"]) for i in items[1:])
    connector = connect()

    connector.shipment_upload(external_id="90002", shipment=shipment("90002", "1ZA", (first,)))
    assert om.orders[90002]["orderStatus"] == "AWAITING_SHIPMENT"
    connector.shipment_upload(external_id="90002", shipment=shipment("90002", "1ZB", rest))

    assert om.orders[90002]["orderStatus"] == "SHIPPED"
    assert [s["trackingNumber"] for s in om.shipments_of(90002)] == ["1ZA", "1ZB"]
    assert om.shipments_of(90002)[0]["items"] == [
        {
            "orderItemId": items[0]["orderItemId"],
            "listingSku": items[0]["listingSku"],
            "quantity": items[0]["quantityOrdered"],
        }
    ]


def test_line_without_an_order_item_id_is_matched_by_listing_sku(connect, om):
    item = om.orders[90003]["orderItems"][0]

    connect().shipment_upload(
        external_id="90003", shipment=shipment("90003", lines=(ShipmentLineRecord("", item["listingSku"], 1),))
    )

    assert om.shipments_of(90003)[0]["items"][0]["orderItemId"] == item["orderItemId"]


def test_shipments_list_reads_back_what_the_order_carries(connect, om):
    item = om.orders[90002]["orderItems"][0]
    connector = connect()
    connector.shipment_upload(
        external_id="90002",
        shipment=shipment("90002", "1ZP", (ShipmentLineRecord(str(item["orderItemId"]), item["listingSku"], 1),)),
    )

    (listed,) = connector.shipments_list("90002")

    assert (listed.tracking_number, listed.carrier, listed.service) == ("1ZP", "UPS", "Ground")
    assert listed.order_number == "90002"
    assert listed.lines == (ShipmentLineRecord(str(item["orderItemId"]), item["listingSku"], 1),)
    assert listed.shipped_at == datetime(2026, 11, 4, 15, 30, tzinfo=UTC)


def test_shipments_list_is_empty_before_any_upload(connect):
    assert connect().shipments_list("90001") == []


def test_lost_answer_raises_outcome_unknown_without_resending(connect, om):
    om.inject("drop_after", method="PUT", path="/shipment/external")
    connector = connect()

    with pytest.raises(TransportError) as caught:
        connector.shipment_upload(external_id="90001", shipment=shipment("90001"))

    assert caught.value.outcome_unknown
    assert om.calls_to("PUT", "/shipment/external") == 1 and len(om.shipments_of(90001)) == 1
    assert [s.tracking_number for s in connector.shipments_list("90001")] == ["1Z999"]  # how the hub settles it


def test_server_error_on_upload_is_not_retried(connect, om):
    fault = om.inject("status", times=2, status=503, method="PUT", path="/shipment/external")

    with pytest.raises(ServerError):
        connect().shipment_upload(external_id="90001", shipment=shipment("90001"))

    assert fault.times == 1  # one of the two 503s answered; no second attempt took the other
    assert om.shipments_of(90001) == []


def test_uploading_to_a_cancelled_order_is_refused(connect, om):
    cancelled = next(o["orderId"] for o in om.orders.values() if o["orderStatus"] == "CANCELLED")

    with pytest.raises(ClientError, match="cancelled"):
        connect().shipment_upload(external_id=str(cancelled), shipment=shipment(str(cancelled)))


def test_unknown_order_is_not_found(connect):
    with pytest.raises(NotFound):
        connect().shipment_upload(external_id="99999", shipment=shipment("99999"))


def test_non_numeric_order_id_is_refused_before_sending(connect, om):
    with pytest.raises(ClientError, match="orderId"):
        connect().shipment_upload(external_id="SO-1", shipment=shipment("SO-1"))

    assert om.calls == []
