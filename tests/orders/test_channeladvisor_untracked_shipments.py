"""ChannelAdvisor shipments whose outcome the hub never learnt, end to end through the outbox against the
sandbox: a shipment with no tracking number (the OMS contract allows "") whose answer was lost is found again
by its lines and quantities, so CA counts its units once, and its later tracking number corrects it; and a 200
whose body cannot be read is settled by reading back, like a timeout."""

import pytest

from orders.models import Shipment, ShipmentUpload, UploadState
from tests.orders.test_shipments import on_channel, ship, simple_line, uploads_on_sandbox

pytestmark = pytest.mark.django_db

SHIP = {"method": "POST", "path": r"/Ship$"}


def shipped_units(sandbox, order, line) -> int:
    return sandbox.api("channeladvisor").shipped_quantity(int(order.external_id), int(line.external_id))


def test_a_lost_answer_to_an_untracked_shipment_is_found_by_its_lines_not_sent_twice(submitted, run, sandbox):
    channel = submitted("channeladvisor")
    line = simple_line(channel)
    ship(sandbox, line.order, {line.external_id: 1}, tracking="")
    run(channel.fulfillment, "shipments.download")
    sandbox.api("channeladvisor").inject("drop_after", **SHIP)  # CA takes it; the answer is lost

    result = run(channel, "shipments.upload")

    assert result.status == "ok", result.error
    assert uploads_on_sandbox(sandbox, "channeladvisor") == 1  # the journal: one Ship, never a second
    assert shipped_units(sandbox, line.order, line) == 1  # 1 unit for 1, not 2
    (held,) = on_channel(channel, line.order)
    assert (held.tracking_number, [(x.line_ref, x.quantity) for x in held.lines]) == ("", [(line.external_id, 1)])
    upload = ShipmentUpload.objects.get()
    assert (upload.state, upload.attempts) == (UploadState.SENT, 2)


def test_the_tracking_number_that_comes_later_corrects_the_untracked_shipment(submitted, run, sandbox):
    channel = submitted("channeladvisor")
    line = simple_line(channel)
    shipped = ship(sandbox, line.order, {line.external_id: 1}, tracking="")
    run(channel.fulfillment, "shipments.download")
    sandbox.api("channeladvisor").inject("drop_after", **SHIP)
    run(channel, "shipments.upload")
    sandbox.api("oms").set_tracking(shipped["id"], "1ZLATER0001")
    assert run(channel.fulfillment, "shipments.download").updated == 1

    result = run(channel, "shipments.upload")

    assert (result.status, result.updated, result.failed) == ("ok", 1, 0), result.error
    (held,) = on_channel(channel, line.order)
    assert held.tracking_number == "1ZLATER0001"
    assert uploads_on_sandbox(sandbox, "channeladvisor") == 1
    assert len(sandbox.api("channeladvisor").fulfillment_updates) == 1  # one PATCH of the held fulfillment


def test_a_second_untracked_shipment_of_the_same_line_is_not_mistaken_for_the_first(submitted, run, sandbox):
    channel = submitted("channeladvisor")
    line = simple_line(channel)
    ship(sandbox, line.order, {line.external_id: 1}, tracking="")
    run(channel.fulfillment, "shipments.download")
    run(channel, "shipments.upload")
    ship(sandbox, line.order, {line.external_id: 1}, tracking="")
    run(channel.fulfillment, "shipments.download")
    sandbox.api("channeladvisor").inject("drop", **SHIP)  # nothing reached CA: it must still be sent

    result = run(channel, "shipments.upload")

    assert result.status == "ok", result.error
    assert shipped_units(sandbox, line.order, line) == 2
    assert len(on_channel(channel, line.order)) == 2
    assert set(ShipmentUpload.objects.values_list("state", flat=True)) == {UploadState.SENT}


def test_an_unreadable_200_to_ship_is_settled_by_reading_back_and_sent_once(submitted, run, sandbox):
    channel = submitted("channeladvisor")
    line = simple_line(channel)
    ship(sandbox, line.order, {line.external_id: 1})
    run(channel.fulfillment, "shipments.download")
    sandbox.api("channeladvisor").inject("malformed", **SHIP)  # 200, truncated JSON, nothing processed

    result = run(channel, "shipments.upload")

    assert result.status == "ok", result.error
    assert shipped_units(sandbox, line.order, line) == 1
    assert len(sandbox.api("channeladvisor").shipments) == 1  # taken once, on the try after the read-back
    upload = ShipmentUpload.objects.get()
    assert (upload.state, upload.attempts) == (UploadState.SENT, 2)
    assert Shipment.objects.count() == 1
