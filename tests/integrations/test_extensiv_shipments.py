"""Extensiv Order Manager ship confirmation against the sandbox over HTTP: PUT /v1.1/shipment/external ships
the whole order, once, with every parcel; only documented fields; reading back what OM already has, and no
blind resend of a non-idempotent upload."""

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


def shipment(
    order_id: str, tracking: str = "1Z999", lines: tuple[ShipmentLineRecord, ...] = (), parcels: tuple = ()
) -> ShipmentRecord:
    return ShipmentRecord(
        external_id=f"S-{tracking}",
        order_number=order_id,
        tracking_number=tracking,
        carrier="UPS",
        service="Ground",
        shipped_at=datetime(2026, 11, 4, 15, 30, tzinfo=UTC),
        lines=lines,
        parcels=parcels,
    )


def test_whole_order_upload_marks_it_shipped_with_tracking(connect, om):
    connect().shipment_upload(external_id="90001", shipment=shipment("90001"))

    (recorded,) = om.shipments_of(90001)
    assert om.orders[90001]["orderStatus"] == "SHIPPED"
    assert recorded["trackingNumber"] == "1Z999"
    assert recorded["shipMethod"]["shippingCarrier"] == "UPS"
    assert sum(i["quantity"] for i in recorded["items"]) == sum(
        i["quantityOrdered"] for i in om.orders[90001]["orderItems"]
    )


def test_upload_body_is_the_documented_envelope_and_nothing_else(connect, om):
    connect().shipment_upload(external_id="90002", shipment=shipment("90002"))

    (body,) = om.uploads
    assert body == {
        "notifyCustomer": False,
        "updateChannel": True,
        "shipments": {"orderId": 90002, "trackingNumber": "1Z999", "shipMethod": {"shippingCarrier": "UPS"}},
    }  # no shippingService, shipDate or items: the reference's body lists none of them


def test_inferred_fields_are_sent_only_when_the_setting_asks(connect, om):
    connect(inferred_shipment_fields=True).shipment_upload(external_id="90002", shipment=shipment("90002"))

    (body,) = om.uploads
    assert body["shipments"]["shipMethod"] == {"shippingCarrier": "UPS", "shippingService": "Ground"}
    assert body["shipments"]["shipDate"] == "2026-11-04T15:30:00Z"
    assert om.shipments_of(90002)[0]["shipDate"] == "2026-11-04T15:30:00Z"


def test_several_parcels_go_in_one_confirmation_that_ships_the_order(connect, om):
    parcels = (shipment("90002", "1ZA"), shipment("90002", "1ZB"), shipment("90002", "1ZC"))

    connect().shipment_upload(external_id="90002", shipment=shipment("90002", "1ZC", parcels=parcels))

    (body,) = om.uploads
    assert [entry["trackingNumber"] for entry in body["shipments"]] == ["1ZA", "1ZB", "1ZC"]
    assert om.orders[90002]["orderStatus"] == "SHIPPED"
    assert [s["trackingNumber"] for s in om.shipments_of(90002)] == ["1ZA", "1ZB", "1ZC"]
    shipped = sum(i["quantity"] for s in om.shipments_of(90002) for i in s["items"])
    assert shipped == sum(i["quantityOrdered"] for i in om.orders[90002]["orderItems"])


def test_a_partial_confirmation_still_ships_the_whole_order_and_a_second_one_is_refused(connect, om):
    item = om.orders[90002]["orderItems"][0]
    connector = connect()
    connector.shipment_upload(
        external_id="90002",
        shipment=shipment("90002", "1ZA", (ShipmentLineRecord(str(item["orderItemId"]), item["listingSku"], 1),)),
    )
    assert om.orders[90002]["orderStatus"] == "SHIPPED"  # OM's external confirmation ships the order

    with pytest.raises(ClientError, match="already shipped"):
        connector.shipment_upload(external_id="90002", shipment=shipment("90002", "1ZB"))
    assert [s["trackingNumber"] for s in om.shipments_of(90002)] == ["1ZA"]


def test_shipments_list_reads_back_what_the_order_carries(connect, om):
    connector = connect(inferred_shipment_fields=True)
    connector.shipment_upload(external_id="90002", shipment=shipment("90002", "1ZP"))

    (listed,) = connector.shipments_list("90002")

    assert (listed.tracking_number, listed.carrier, listed.service) == ("1ZP", "UPS", "Ground")
    assert listed.order_number == "90002"
    assert sum(line.quantity for line in listed.lines) == sum(
        i["quantityOrdered"] for i in om.orders[90002]["orderItems"]
    )
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
