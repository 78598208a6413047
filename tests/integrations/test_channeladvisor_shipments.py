"""ChannelAdvisor shipments against the sandbox over HTTP: per-line Ship calls (only the shipped items),
the order's fulfillments read back, carrier/class refusals, and a Ship that is never sent twice."""

from datetime import UTC, datetime

import pytest

from integrations.connectors.records import ShipmentLineRecord, ShipmentRecord
from integrations.http import ClientError, ServerError, TransportError


@pytest.fixture
def order(ca):
    """A seeded order with three lines."""
    return next(o for o in ca.orders.values() if len(o["Items"]) == 3)


def shipment_of(order: dict, quantities: dict[int, int], **fields) -> ShipmentRecord:
    items = {i["ID"]: i for i in order["Items"]}
    lines = tuple(ShipmentLineRecord(str(item_id), items[item_id]["Sku"], qty) for item_id, qty in quantities.items())
    values = {"external_id": "SH-1", "order_number": "SO-1", "tracking_number": "1Z999", "carrier": "UPS"}
    return ShipmentRecord(**(values | {"service": "Ground", "lines": lines} | fields))


def test_partial_shipment_ships_only_its_lines(connect, ca, order):
    first, second, third = (i["ID"] for i in order["Items"])

    connect().shipment_upload(external_id=str(order["ID"]), shipment=shipment_of(order, {first: 1}))

    assert ca.shipped_quantity(order["ID"], first) == 1
    assert ca.shipped_quantity(order["ID"], second) == ca.shipped_quantity(order["ID"], third) == 0
    assert ca.orders[order["ID"]]["ShippingStatus"] == "PartiallyShipped"
    (sent,) = ca.shipments
    assert sent["Items"] == [{"OrderItemID": first, "Quantity": 1}]
    assert (sent["TrackingNumber"], sent["DeliveryStatus"], sent["SellerFulfillmentID"]) == (
        "1Z999",
        "Complete",
        "SH-1",
    )


def test_order_is_shipped_when_every_line_is(connect, ca, order):
    connector = connect()
    items = order["Items"]
    connector.shipment_upload(external_id=str(order["ID"]), shipment=shipment_of(order, {items[0]["ID"]: 1}))
    rest = {i["ID"]: i["Quantity"] for i in items} | {items[0]["ID"]: items[0]["Quantity"] - 1}
    rest = {item_id: qty for item_id, qty in rest.items() if qty}

    connector.shipment_upload(
        external_id=str(order["ID"]), shipment=shipment_of(order, rest, external_id="SH-2", tracking_number="1Z2")
    )

    assert ca.orders[order["ID"]]["ShippingStatus"] == "Shipped"


def test_shipment_names_its_date_and_distribution_center(connect, ca, order):
    shipped_at = datetime(2026, 11, 3, 15, 30, tzinfo=UTC)
    east = ca.dc_id("EAST")
    shipment = shipment_of(order, {order["Items"][0]["ID"]: 1}, shipped_at=shipped_at, channel_warehouse=str(east))

    connect().shipment_upload(external_id=str(order["ID"]), shipment=shipment)

    assert ca.shipments[0]["ShippedDateUtc"] == "2026-11-03T15:30:00Z"
    assert ca.shipments[0]["DistributionCenterID"] == east


def test_distribution_center_setting_is_used_when_the_shipment_names_none(connect, ca, order):
    east = ca.dc_id("EAST")
    shipment = shipment_of(order, {order["Items"][0]["ID"]: 1}, warehouse="MAIN")

    connect(distribution_center_id=str(east)).shipment_upload(external_id=str(order["ID"]), shipment=shipment)

    assert ca.shipments[0]["DistributionCenterID"] == east


def test_shipments_list_reads_back_fulfillments_with_tracking(connect, ca, order):
    connector = connect()
    first = order["Items"][0]
    connector.shipment_upload(external_id=str(order["ID"]), shipment=shipment_of(order, {first["ID"]: 1}))

    (listed,) = connector.shipments_list(str(order["ID"]))

    assert (listed.external_id, listed.order_number, listed.tracking_number) == ("SH-1", str(order["ID"]), "1Z999")
    assert (listed.carrier, listed.service, listed.order_complete) == ("UPS", "Ground", False)
    assert listed.lines == (ShipmentLineRecord(str(first["ID"]), first["Sku"], 1),)


def test_shipments_list_is_empty_before_anything_shipped(connect, order):
    assert connect().shipments_list(str(order["ID"])) == []


def test_unknown_carrier_is_a_client_error_with_ca_s_message(connect, ca, order):
    shipment = shipment_of(order, {order["Items"][0]["ID"]: 1}, carrier="FOO")

    with pytest.raises(ClientError) as caught:
        connect().shipment_upload(external_id=str(order["ID"]), shipment=shipment)

    assert caught.value.status == 400
    assert "The ShippingCarrier 'FOO' is not valid for this account." in str(caught.value)
    assert ca.shipments == []


def test_unknown_class_for_the_carrier_is_refused(connect, ca, order):
    shipment = shipment_of(order, {order["Items"][0]["ID"]: 1}, carrier="USPS", service="Ground")

    with pytest.raises(ClientError, match="ShippingClass 'Ground' is not valid for carrier 'USPS'"):
        connect().shipment_upload(external_id=str(order["ID"]), shipment=shipment)


def test_line_reference_that_is_not_an_order_item_id_is_refused_before_sending(connect, ca, order):
    shipment = shipment_of(order, {}, lines=(ShipmentLineRecord("LINE-1", "X", 1),))

    with pytest.raises(ClientError, match="OrderItemID"):
        connect().shipment_upload(external_id=str(order["ID"]), shipment=shipment)

    assert ca.calls_to("POST", "/Ship$") == 0


def test_ship_is_not_retried_after_a_server_error(connect, ca, order):
    ca.inject("status", times=1, status=500, method="POST", path="/Ship$")

    with pytest.raises(ServerError):
        connect().shipment_upload(
            external_id=str(order["ID"]), shipment=shipment_of(order, {order["Items"][0]["ID"]: 1})
        )

    assert ca.faults == []  # the one fault was the only attempt
    assert ca.shipments == []


def test_lost_answer_to_ship_is_outcome_unknown_and_readable_back(connect, ca, order):
    connector = connect()
    ca.inject("drop_after", method="POST", path="/Ship$")

    with pytest.raises(TransportError) as caught:
        connector.shipment_upload(
            external_id=str(order["ID"]), shipment=shipment_of(order, {order["Items"][0]["ID"]: 1})
        )

    assert caught.value.outcome_unknown
    assert len(ca.shipments) == 1  # the call went through once and was not repeated
    assert [s.external_id for s in connector.shipments_list(str(order["ID"]))] == ["SH-1"]


def test_shipment_correct_patches_the_held_fulfillment_and_keeps_it_shipped(connect, ca, order):
    connector = connect()
    first = order["Items"][0]
    connector.shipment_upload(external_id=str(order["ID"]), shipment=shipment_of(order, {first["ID"]: 1}))
    (held,) = connector.shipments_list(str(order["ID"]))
    corrected = shipment_of(order, {first["ID"]: 1}, tracking_number="9400FIXED", carrier="USPS", service="Priority")

    connector.shipment_correct(external_id=str(order["ID"]), shipment=corrected, held=held)

    (listed,) = connector.shipments_list(str(order["ID"]))
    assert (listed.tracking_number, listed.carrier, listed.service) == ("9400FIXED", "USPS", "Priority")
    assert listed.lines == held.lines
    assert len(ca.shipments) == 1  # one Ship; the correction is a PATCH of its fulfillment
    (fulfillment,) = [f for f in ca.orders[order["ID"]]["Fulfillments"] if f["ID"] == int(held.channel_ref)]
    assert fulfillment["DeliveryStatus"] == "Complete"


def test_shipment_correct_with_an_invalid_carrier_is_refused_and_changes_nothing(connect, ca, order):
    connector = connect()
    first = order["Items"][0]
    connector.shipment_upload(external_id=str(order["ID"]), shipment=shipment_of(order, {first["ID"]: 1}))
    (held,) = connector.shipments_list(str(order["ID"]))

    with pytest.raises(ClientError, match="The ShippingCarrier 'FOO' is not valid"):
        connector.shipment_correct(
            external_id=str(order["ID"]), shipment=shipment_of(order, {}, carrier="FOO"), held=held
        )

    assert connector.shipments_list(str(order["ID"])) == [held]
    assert ca.fulfillment_updates == []
