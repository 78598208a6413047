"""ChannelAdvisor answers the hub must read right, against the sandbox over HTTP: the Web API's `{"Message": …}`
error shape, a 429 with no body, a product with no quantity anywhere, and a 200 whose body cannot be read on a
write (Ship, UpdateQuantity), which is an unknown outcome to read back, never a success."""

import pytest

from integrations.connectors.channeladvisor import parse
from integrations.connectors.reader import PayloadReader
from integrations.connectors.records import QuantityUpdate, ShipmentLineRecord, ShipmentRecord
from integrations.http import AuthFailed, TransportError

SKU = "1001-RED-X-S"

# A product as CA lists it when it holds no quantity for it (recorded payloads of parents and never-stocked SKUs).
UNSTOCKED = {
    "ID": 880001,
    "ProfileID": 12345678,
    "Sku": "PARENT-1",
    "TotalAvailableQuantity": None,
    "TotalQuantity": None,
    "DCQuantities": None,
}


def test_error_body_with_capital_message_shows_the_message(connect, ca):
    ca.inject("status", status=403, path="/v1/Profiles")

    with pytest.raises(AuthFailed) as caught:
        connect().test_connection()

    assert caught.value.reason == "Injected fault"  # {"Message": "Injected fault"}, not the dict


def test_429_with_an_empty_body_is_retried_like_any_429(connect, ca):
    ca.inject("status", times=2, status=429, path="/v1/Profiles")

    assert connect().test_connection().startswith("ChannelAdvisor:")
    assert ca.faults == []  # both 429s were answered (empty bodies) and retried past


def test_unstocked_product_payload_has_no_quantity_rows():
    assert parse.dc_quantities(PayloadReader("ca"), UNSTOCKED) == []
    assert parse.dc_quantities(PayloadReader("ca"), {k: v for k, v in UNSTOCKED.items() if k != "DCQuantities"}) == []


def test_product_with_no_quantity_anywhere_reads_back_as_no_rows(connect, ca):
    ca.add_product("NEVER-STOCKED")

    rows = list(connect().quantities_download(skus=["NEVER-STOCKED", SKU]))

    assert {row.sku for row in rows} == {SKU}
    product = ca._product_view(ca.product_id("NEVER-STOCKED"))
    assert product["TotalAvailableQuantity"] is None  # the sandbox shows CA's null totals


def test_unreadable_200_to_ship_is_an_unknown_outcome_not_a_success(connect, ca):
    order = next(o for o in ca.orders.values() if o["ShippingStatus"] == "Unshipped")
    item = order["Items"][0]
    line = ShipmentLineRecord(str(item["ID"]), item["Sku"], 1)
    shipment = ShipmentRecord("SH-M", str(order["ID"]), "1Z999", "UPS", "Ground", lines=(line,))
    ca.inject("malformed", method="POST", path="/Ship$")

    with pytest.raises(TransportError) as caught:
        connect().shipment_upload(external_id=str(order["ID"]), shipment=shipment)

    assert caught.value.outcome_unknown and caught.value.retryable
    assert ca.shipments == []  # the sandbox did not process it: a read-back finds nothing, so it is sent again


def test_unreadable_200_to_update_quantity_leaves_the_row_unanswered(connect, ca):
    dc = str(ca.dc_id("MAIN"))
    ca.inject("malformed", method="POST", path="/UpdateQuantity$")

    results = connect().quantities_push([QuantityUpdate(SKU, dc, 11), QuantityUpdate("GM501", dc, 4)])

    # No result for the unreadable answer: the inventory flow reads it back instead of counting it pushed.
    assert [(r.sku, r.ok) for r in results] == [("GM501", True)]
    assert len(ca.quantity_updates) == 1
