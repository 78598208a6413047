"""Shipment corrections: a tracking number changed in the fulfillment system after the shipment reached its
sales channel goes to the channel again, as a change of the shipment it holds, never as a second shipment."""

import pytest

from integrations.flows import RunReport
from orders.models import OrderEvent, Shipment, ShipmentUpload, UploadState
from tests.orders.conftest import open_issues
from tests.orders.test_shipments import first_parcel, on_channel, ship, simple_line, uploads_on_sandbox
from tests.orders.test_shipments_admin import CHANGELIST, resend

pytestmark = pytest.mark.django_db

CORRECTED = "1ZCORRECTED0001"


def shipped_and_sent(kind, submitted, run, sandbox):
    """A channel with one shipment of one unit sent to it; the sandbox OMS's shipment."""
    channel = submitted(kind)
    line = simple_line(channel)
    shipped = ship(sandbox, line.order, first_parcel(kind, line))
    run(channel.fulfillment, "shipments.download")
    assert run(channel, "shipments.upload").created == 1
    return channel, line.order, shipped


@pytest.mark.parametrize("kind", ["channeladvisor", "nuorder"])
def test_a_tracking_number_changed_after_the_upload_corrects_the_channels_shipment(kind, submitted, run, sandbox):
    channel, order, shipped = shipped_and_sent(kind, submitted, run, sandbox)
    (before,) = on_channel(channel, order)
    sandbox.api("oms").set_tracking(shipped["id"], CORRECTED)

    assert run(channel.fulfillment, "shipments.download").updated == 1
    upload = ShipmentUpload.objects.get()
    assert (upload.state, upload.correction, upload.attempts) == (UploadState.PENDING, True, 0)
    assert OrderEvent.objects.filter(
        order=order,
        message=f"shipment {shipped['id']} corrected: tracking number {before.tracking_number} → {CORRECTED}",
    ).exists()

    result = run(channel, "shipments.upload")
    assert (result.status, result.created, result.updated) == ("ok", 0, 1)
    (after,) = on_channel(channel, order)  # the same shipment, changed: not a second one
    assert after.tracking_number == CORRECTED
    assert after.lines == before.lines
    # CA got no second Ship; NuORDER's correction rewrites the order's shipments array through the upload's call.
    assert uploads_on_sandbox(sandbox, kind) == (1 if kind == "channeladvisor" else 2)
    upload.refresh_from_db()
    assert (upload.state, upload.correction) == (UploadState.SENT, False)
    assert order.events.filter(message__contains=f"tracking corrected to {CORRECTED}").exists()


def test_channeladvisor_correction_patches_the_fulfillment_and_keeps_its_delivery_status(submitted, run, sandbox):
    channel, order, shipped = shipped_and_sent("channeladvisor", submitted, run, sandbox)
    (held,) = on_channel(channel, order)
    sandbox.api("oms").set_tracking(shipped["id"], CORRECTED)
    run(channel.fulfillment, "shipments.download")

    run(channel, "shipments.upload")

    api = sandbox.api("channeladvisor")
    (update,) = api.fulfillment_updates
    assert update["FulfillmentID"] == int(held.channel_ref)
    assert (update["TrackingNumber"], update["DeliveryStatus"]) == (CORRECTED, "NoChange")
    fulfillment = next(
        f for f in api.orders[int(order.external_id)]["Fulfillments"] if f["ID"] == update["FulfillmentID"]
    )
    assert fulfillment["DeliveryStatus"] == "Complete"


def test_a_channel_whose_api_cannot_change_a_shipment_fails_the_correction_with_the_reason(submitted, run, sandbox):
    channel, order, shipped = shipped_and_sent("extensiv", submitted, run, sandbox)
    sent = shipped["tracking_number"]
    sandbox.api("oms").set_tracking(shipped["id"], CORRECTED)
    run(channel.fulfillment, "shipments.download")

    assert run(channel, "shipments.upload").status == "partial"  # the refused row is an issue, the run goes on

    upload = ShipmentUpload.objects.get()
    assert (upload.state, upload.correction) == (UploadState.FAILED, True)
    assert "cannot change a shipment once it is sent" in upload.last_error
    assert "correction of shipment" in open_issues(channel, "shipments.upload")[shipped["id"]]
    assert uploads_on_sandbox(sandbox, "extensiv") == 1  # not sent again as a new shipment
    assert [s.tracking_number for s in on_channel(channel, order)] == [sent]


def test_a_correction_whose_answer_was_lost_is_read_back_and_not_repeated(submitted, run, sandbox, settings):
    settings.HTTP_READ_TIMEOUT = 0.5
    channel, order, shipped = shipped_and_sent("channeladvisor", submitted, run, sandbox)
    sandbox.api("oms").set_tracking(shipped["id"], CORRECTED)
    run(channel.fulfillment, "shipments.download")
    api = sandbox.api("channeladvisor")
    api.inject("drop_after", times=1, method="PATCH", path=r"^/v1/Fulfillments\(\d+\)$", delay=1.0)

    assert run(channel, "shipments.upload").status == "ok"

    # The first PATCH was applied and its answer lost; the client repeats it (safe), or the read-back settles it.
    assert {u["TrackingNumber"] for u in api.fulfillment_updates} == {CORRECTED}
    assert [s.tracking_number for s in on_channel(channel, order)] == [CORRECTED]
    assert ShipmentUpload.objects.get().state == UploadState.SENT


def test_a_change_before_the_upload_is_sent_once_with_the_new_tracking(submitted, run, sandbox):
    channel = submitted("channeladvisor")
    line = simple_line(channel)
    shipped = ship(sandbox, line.order, {line.external_id: 1})
    run(channel.fulfillment, "shipments.download")
    sandbox.api("oms").set_tracking(shipped["id"], CORRECTED)
    run(channel.fulfillment, "shipments.download")
    assert not ShipmentUpload.objects.get().correction  # still the first upload: it sends what is stored now

    assert run(channel, "shipments.upload").created == 1
    assert [s.tracking_number for s in on_channel(channel, line.order)] == [CORRECTED]
    assert sandbox.api("channeladvisor").fulfillment_updates == []


def test_an_unchanged_or_invoice_only_change_queues_no_correction(submitted, run, sandbox):
    channel, _, _ = shipped_and_sent("channeladvisor", submitted, run, sandbox)
    run(channel.fulfillment, "shipments.download")  # the overlap re-reads it unchanged
    Shipment.objects.update(invoice_number="OLD-INVOICE")  # differs from the OMS: rewritten, not re-sent

    assert run(channel.fulfillment, "shipments.download").updated == 1
    assert ShipmentUpload.objects.get().state == UploadState.SENT
    assert run(channel, "shipments.upload").seen == 0


def test_dry_run_names_the_correction_and_changes_nothing(submitted, run, sandbox):
    channel, _, shipped = shipped_and_sent("channeladvisor", submitted, run, sandbox)
    sent = shipped["tracking_number"]
    sandbox.api("oms").set_tracking(shipped["id"], CORRECTED)

    report = RunReport(flow="shipments.download", dry_run=True)
    run(channel.fulfillment, "shipments.download", dry_run=True, report=report)

    assert any(CORRECTED in line for line in report.lines), report.lines
    assert Shipment.objects.get().tracking_number == sent
    assert ShipmentUpload.objects.get().state == UploadState.SENT


# The shipments screen.


def test_the_shipments_list_shows_a_correction_pending(admin_client, submitted, run, sandbox):
    channel, _, shipped = shipped_and_sent("channeladvisor", submitted, run, sandbox)
    sandbox.api("oms").set_tracking(shipped["id"], CORRECTED)
    run(channel.fulfillment, "shipments.download")

    page = admin_client.get(CHANGELIST).content.decode()

    assert CORRECTED in page and "correction pending" in page


def test_resending_a_correction_the_channel_cannot_take_is_refused_with_the_reason(
    admin_client, submitted, run, sandbox
):
    channel, _, shipped = shipped_and_sent("extensiv", submitted, run, sandbox)
    sandbox.api("oms").set_tracking(shipped["id"], CORRECTED)
    run(channel.fulfillment, "shipments.download")
    run(channel, "shipments.upload")
    shipment = Shipment.objects.get()

    page = resend(admin_client, [shipment]).content.decode()
    assert "cannot change a shipment once it is sent: correct the tracking on the channel" in page
    resend(admin_client, [shipment], confirm=True)

    assert ShipmentUpload.objects.get().state == UploadState.FAILED


def test_resending_a_failed_correction_sends_the_correction_again(admin_client, submitted, run, sandbox):
    channel, order, shipped = shipped_and_sent("channeladvisor", submitted, run, sandbox)
    sandbox.api("oms").set_tracking(shipped["id"], CORRECTED)
    run(channel.fulfillment, "shipments.download")
    api = sandbox.api("channeladvisor")
    api.inject("status", status=400, method="PATCH", path=r"^/v1/Fulfillments")
    run(channel, "shipments.upload")
    assert ShipmentUpload.objects.get().state == UploadState.FAILED
    shipment = Shipment.objects.get()

    assert "The correction will be sent again" in resend(admin_client, [shipment]).content.decode()
    resend(admin_client, [shipment], confirm=True)
    assert run(channel, "shipments.upload").updated == 1

    assert [s.tracking_number for s in on_channel(channel, order)] == [CORRECTED]
    assert uploads_on_sandbox(sandbox, "channeladvisor") == 1
