"""Shipments: downloaded from the sandbox OMS, uploaded per line to every sales channel's sandbox, exactly once."""

from contextlib import closing
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from integrations.connectors import connector_for
from integrations.cursors import cursor_position
from integrations.flows import parse_position
from orders import shipments as shipments_module
from orders.models import (
    Order,
    OrderLine,
    OrderRules,
    OrderStatus,
    Shipment,
    ShipmentLine,
    ShipmentUpload,
    ShipmentUploadMode,
    UploadState,
)
from orders.shipment_upload import uploads_resend
from tests.orders.conftest import SALES_KINDS, flow_in_thread, open_issues

pytestmark = pytest.mark.django_db

# Where each sandbox takes a shipment: the request a fault is injected on.
UPLOAD_CALL = {
    "channeladvisor": ("POST", r"/Ship$"),
    "nuorder": ("POST", r"^/api/order/[0-9a-f]+$"),
    "extensiv": ("PUT", r"/shipment/external$"),
}


# Channels that take each parcel as it comes; Extensiv confirms the whole order once (test_whole_order_*).
PER_PARCEL = [kind for kind in SALES_KINDS if kind != "extensiv"]


def simple_line(channel, minimum: int = 2) -> OrderLine:
    """A submitted order's plain line (not a bundle, no component) ordering at least `minimum` units."""
    line = (
        OrderLine.objects.filter(order__channel=channel, parent=None, is_bundle=False, quantity__gte=minimum)
        .select_related("order")
        .order_by("order__external_id", "position")
        .first()
    )
    assert line is not None, f"the seeded {channel.kind} orders have no line of {minimum}+ units"
    return line


def first_parcel(kind: str, line: OrderLine) -> dict[str, int] | None:
    """One unit of `line`; on Extensiv, which is told only of complete orders, the whole order."""
    return None if kind == "extensiv" else {line.external_id: 1}


def ship(sandbox, order: Order, lines: dict[str, int] | None = None, **kwargs) -> dict:
    """Ship in the sandbox OMS, as the warehouse would: {line_ref: quantity}, None for everything open."""
    return sandbox.api("oms").ship(order.fulfillment_number, lines, **kwargs)


def on_channel(channel, order: Order) -> list:
    """The shipments the channel holds for the order, read over HTTP."""
    with closing(connector_for(channel)) as connector:
        return connector.shipments_list(order.external_id)


def channel_order_shipped(sandbox, order: Order) -> bool:
    api = sandbox.api(order.channel.kind)
    if order.channel.kind == "channeladvisor":
        return api.orders[int(order.external_id)]["ShippingStatus"] == "Shipped"
    if order.channel.kind == "nuorder":
        return api.orders[order.external_id]["status"] == "shipped"
    return api.orders[int(order.external_id)]["orderStatus"] == "SHIPPED"


def sent_lines(shipment) -> dict[str, int]:
    return {line.line_ref: line.quantity for line in shipment.lines}


def uploads_on_sandbox(sandbox, kind: str) -> int:
    method, path = UPLOAD_CALL[kind]
    return sandbox.api(kind).calls_to(method, path)


@pytest.mark.parametrize("kind", PER_PARCEL)
def test_a_partial_shipment_then_the_rest_reach_the_channel_line_by_line(kind, submitted, run, sandbox):
    channel = submitted(kind)
    line = simple_line(channel)
    order = line.order
    first = ship(sandbox, order, {line.external_id: 1})

    assert run(channel.fulfillment, "shipments.download").created == 1
    order.refresh_from_db()
    line.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    assert line.quantity_shipped == 1
    assert run(channel, "shipments.upload").created == 1
    (partial,) = on_channel(channel, order)
    assert partial.tracking_number == first["tracking_number"]
    assert sent_lines(partial) == {line.external_id: 1}  # only the picked unit; the rest stays open
    assert not channel_order_shipped(sandbox, order)

    rest = ship(sandbox, order)  # everything still open
    assert run(channel.fulfillment, "shipments.download").created == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert run(channel, "shipments.upload").created == 1
    shipments = {s.tracking_number: s for s in on_channel(channel, order)}
    assert set(shipments) == {first["tracking_number"], rest["tracking_number"]}
    assert sent_lines(shipments[rest["tracking_number"]])[line.external_id] == line.quantity - 1
    assert channel_order_shipped(sandbox, order)
    assert set(ShipmentUpload.objects.filter(channel=channel).values_list("state", flat=True)) == {UploadState.SENT}


@pytest.mark.parametrize("kind", PER_PARCEL)
def test_two_shipments_of_one_line_are_two_shipments_on_the_channel(kind, submitted, run, sandbox):
    channel = submitted(kind)
    line = simple_line(channel)
    one = ship(sandbox, line.order, {line.external_id: 1})
    two = ship(sandbox, line.order, {line.external_id: 1})

    assert run(channel.fulfillment, "shipments.download").created == 2
    line.refresh_from_db()
    assert line.quantity_shipped == 2
    assert list(ShipmentLine.objects.filter(order_line=line).values_list("quantity", flat=True)) == [1, 1]
    assert run(channel, "shipments.upload").created == 2
    found = {s.tracking_number: sent_lines(s) for s in on_channel(channel, line.order)}
    assert found == {one["tracking_number"]: {line.external_id: 1}, two["tracking_number"]: {line.external_id: 1}}


def test_the_same_shipments_downloaded_again_change_nothing(submitted, run, sandbox):
    channel = submitted("channeladvisor")
    line = simple_line(channel)
    ship(sandbox, line.order, {line.external_id: 1})
    run(channel.fulfillment, "shipments.download")

    again = run(channel.fulfillment, "shipments.download")  # the overlap re-reads it
    assert (again.seen, again.created, again.skipped) == (1, 0, 1)
    backfill = run(channel.fulfillment, "shipments.download", since=datetime(2000, 1, 1, tzinfo=UTC))
    assert (backfill.seen, backfill.created, backfill.skipped) == (1, 0, 1)
    line.refresh_from_db()
    assert line.quantity_shipped == 1
    assert ShipmentUpload.objects.count() == 1


def test_a_changed_tracking_number_updates_the_shipment_without_shipping_twice(submitted, run, sandbox):
    channel = submitted("extensiv")
    line = simple_line(channel)
    shipped = ship(sandbox, line.order, {line.external_id: 1})
    run(channel.fulfillment, "shipments.download")
    sandbox.api("oms").set_tracking(shipped["id"], "1ZCORRECTED")

    assert run(channel.fulfillment, "shipments.download").updated == 1
    assert Shipment.objects.get().tracking_number == "1ZCORRECTED"
    line.refresh_from_db()
    assert line.quantity_shipped == 1


@pytest.mark.parametrize("kind", SALES_KINDS)
@pytest.mark.parametrize("fault", ["drop_after", "timeout"])
def test_a_lost_answer_is_settled_by_reading_back_so_the_channel_gets_one_shipment(
    kind, fault, submitted, run, sandbox, settings
):
    settings.HTTP_READ_TIMEOUT = 0.5
    channel = submitted(kind)
    line = simple_line(channel)
    ship(sandbox, line.order, first_parcel(kind, line))
    run(channel.fulfillment, "shipments.download")
    method, path = UPLOAD_CALL[kind]
    # drop_after: the channel stored it, the answer is lost; timeout: never processed. The HTTP client retries
    # only where the connector says a repeat is harmless, so allow the fault more than once.
    sandbox.api(kind).inject(fault, times=5 if kind == "nuorder" else 1, method=method, path=path, delay=1.0)

    result = run(channel, "shipments.upload")
    assert result.status == "ok", result.error
    assert len(on_channel(channel, line.order)) == 1
    upload = ShipmentUpload.objects.get()
    assert upload.state == UploadState.SENT
    if kind != "nuorder":  # NuORDER's connector sets the whole shipments array, so its client repeats it itself
        assert upload.attempts == 2


@pytest.mark.parametrize("kind", SALES_KINDS)
def test_a_crash_after_the_channel_accepted_is_not_sent_again(kind, submitted, run, sandbox):
    channel = submitted(kind)
    line = simple_line(channel)
    ship(sandbox, line.order, first_parcel(kind, line))
    run(channel.fulfillment, "shipments.download")
    run(channel, "shipments.upload")
    calls = uploads_on_sandbox(sandbox, kind)
    # As if the worker died between the channel's answer and our write: counted, never marked sent.
    ShipmentUpload.objects.update(state=UploadState.PENDING, sent_at=None)

    assert run(channel, "shipments.upload").status == "ok"
    assert uploads_on_sandbox(sandbox, kind) == calls
    assert len(on_channel(channel, line.order)) == 1
    assert ShipmentUpload.objects.get().state == UploadState.SENT


@pytest.mark.parametrize("kind", SALES_KINDS)
def test_429_and_5xx_are_retried_and_the_channel_gets_one_shipment(kind, submitted, run, sandbox):
    channel = submitted(kind)
    line = simple_line(channel)
    ship(sandbox, line.order, first_parcel(kind, line))
    run(channel.fulfillment, "shipments.download")
    method, path = UPLOAD_CALL[kind]
    api = sandbox.api(kind)
    api.inject("status", status=429, retry_after=0, method=method, path=path)
    api.inject("status", status=503, method=method, path=path)

    result = run(channel, "shipments.upload")
    assert (result.status, result.created) == ("ok", 1)
    assert len(on_channel(channel, line.order)) == 1
    assert ShipmentUpload.objects.get().state == UploadState.SENT


def test_a_channel_down_for_the_whole_run_leaves_the_shipment_pending_then_sends_it_once(submitted, run, sandbox):
    channel = submitted("channeladvisor")
    line = simple_line(channel)
    ship(sandbox, line.order, {line.external_id: 1})
    run(channel.fulfillment, "shipments.download")
    sandbox.api("channeladvisor").inject("status", status=500, times=50, method="POST", path=r"/Ship$")

    result = run(channel, "shipments.upload")
    assert result.status == "partial"
    upload = ShipmentUpload.objects.get()
    assert (upload.state, upload.attempts) == (UploadState.PENDING, 3)
    assert upload.next_attempt_at > timezone.now()
    assert "500" in upload.last_error
    assert list(open_issues(channel, "shipments.upload")) == [upload.shipment.external_id]
    assert run(channel, "shipments.upload").seen == 0  # not due yet

    sandbox.api("channeladvisor").clear_faults()
    ShipmentUpload.objects.update(next_attempt_at=timezone.now())
    assert run(channel, "shipments.upload").created == 1
    assert len(on_channel(channel, line.order)) == 1
    assert open_issues(channel, "shipments.upload") == {}


def test_a_refused_shipment_fails_until_a_person_resends_it(submitted, run, sandbox):
    channel = submitted("channeladvisor")
    line = simple_line(channel)
    ship(sandbox, line.order, {line.external_id: 1}, carrier="Pigeon", service="Wing")
    run(channel.fulfillment, "shipments.download")

    assert run(channel, "shipments.upload").status == "partial"
    upload = ShipmentUpload.objects.get()
    assert upload.state == UploadState.FAILED
    assert upload.attempts == 1  # a refusal is not retried
    assert "ShippingCarrier 'Pigeon' is not valid" in upload.last_error

    Shipment.objects.update(carrier="UPS", service="Ground")  # corrected by hand
    ShipmentUpload.objects.update(attempts=12)  # however often it was tried, a re-send gets a fresh budget

    assert uploads_resend(upload_ids=[upload.pk]) == {upload.pk}
    upload.refresh_from_db()
    assert (upload.state, upload.attempts) == (UploadState.PENDING, 1)  # still read back before sending
    assert run(channel, "shipments.upload").status == "ok"
    (found,) = on_channel(channel, line.order)
    assert found.carrier == "UPS"


def test_a_shipment_for_an_unknown_order_waits_in_the_issue_queue_and_is_applied_once_the_order_is_known(
    submitted, run, sandbox
):
    channel = submitted("nuorder")
    line = simple_line(channel)
    order = line.order
    shipped = ship(sandbox, order, {line.external_id: 1})
    number = order.fulfillment_number
    Order.objects.filter(pk=order.pk).update(fulfillment_number="")  # the hub does not know it (yet)

    result = run(channel.fulfillment, "shipments.download")
    assert (result.status, result.created) == ("partial", 0)
    issues = open_issues(channel.fulfillment, "shipments.download")
    assert f"no order with fulfillment number '{number}'" in issues[shipped["id"]]
    assert not Shipment.objects.exists()
    assert cursor_position(channel=channel.fulfillment, flow="shipments.download")  # the cursor still moves

    Order.objects.filter(pk=order.pk).update(fulfillment_number=number)
    assert run(channel.fulfillment, "shipments.download").created == 1  # from the issue's payload
    assert open_issues(channel.fulfillment, "shipments.download") == {}
    line.refresh_from_db()
    assert line.quantity_shipped == 1


def test_an_over_shipped_line_is_refused_whole_never_capped(submitted, run, sandbox):
    channel = submitted("extensiv")
    line = simple_line(channel)
    other = line.order.lines.exclude(pk=line.pk).filter(is_bundle=False).first()
    lines = {line.external_id: line.quantity + 1}
    if other:
        lines[other.external_id] = 1
    shipped = ship(sandbox, line.order, lines)

    result = run(channel.fulfillment, "shipments.download")
    assert result.status == "partial"
    message = open_issues(channel.fulfillment, "shipments.download")[shipped["id"]]
    assert f"ships {line.quantity + 1} but only {line.quantity} is open" in message
    assert not Shipment.objects.exists()
    assert not OrderLine.objects.filter(order=line.order, quantity_shipped__gt=0).exists()  # nothing applied
    line.order.refresh_from_db()
    assert line.order.status == OrderStatus.SUBMITTED


def test_a_run_that_dies_half_way_loses_nothing_and_ships_nothing_twice(submitted, run, sandbox, monkeypatch):
    channel = submitted("channeladvisor")
    oms = channel.fulfillment
    oms.settings = {**oms.settings, "page_size": 2}
    oms.save()
    monkeypatch.setattr(shipments_module, "CHUNK", 2)
    orders = list(Order.objects.filter(channel=channel, status=OrderStatus.SUBMITTED).order_by("pk"))
    assert len(orders) >= 4
    for order in orders:
        ship(sandbox, order)
    api = sandbox.api("oms")
    api.inject("drop", times=50, method="GET", path=r"/shipments$", after=1)  # the second page never comes

    died = run(oms, "shipments.download")
    assert died.status == "failed"
    assert Shipment.objects.count() == 2  # the first chunk, committed with its cursor
    first_two = sorted(api.shipments)[:2]
    assert set(Shipment.objects.values_list("external_id", flat=True)) == set(first_two)
    stamp = api.shipments[first_two[1]]["updated_at"]
    assert parse_position(cursor_position(channel=oms, flow="shipments.download")) == stamp

    api.clear_faults()
    assert run(oms, "shipments.download").status == "ok"
    assert run(channel, "shipments.upload").status == "ok"
    # Compare with the warehouse: every shipment once, every line's quantity as the OMS has it.
    assert sorted(Shipment.objects.values_list("external_id", flat=True)) == sorted(api.shipments)
    for order in orders:
        (oms_order,) = api.orders_for(order.number)
        shipped = {line["line_ref"]: line["shipped_quantity"] for line in oms_order["lines"]}
        assert dict(order.lines.filter(is_bundle=False).values_list("external_id", "quantity_shipped")) == shipped
        assert len(on_channel(channel, order)) == 1
    assert set(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)) == {
        OrderStatus.SHIPPED
    }


def test_waiting_for_the_complete_order_sends_its_shipments_once_every_line_shipped(submitted, run, sandbox):
    channel = submitted("nuorder")
    OrderRules.objects.create(channel=channel, shipment_upload=ShipmentUploadMode.COMPLETE)
    line = simple_line(channel)
    ship(sandbox, line.order, {line.external_id: 1})
    run(channel.fulfillment, "shipments.download")

    waiting = run(channel, "shipments.upload")
    assert (waiting.created, waiting.skipped) == (0, 1)
    assert on_channel(channel, line.order) == []

    ship(sandbox, line.order)
    run(channel.fulfillment, "shipments.download")
    assert run(channel, "shipments.upload").created == 2
    assert len(on_channel(channel, line.order)) == 2
    assert channel_order_shipped(sandbox, line.order)


def test_a_bundle_line_is_reported_shipped_once_all_its_components_are(submitted, run, sandbox):
    channel = submitted("extensiv")
    bundle = OrderLine.objects.filter(order__channel=channel, is_bundle=True).select_related("order").first()
    assert bundle is not None, "the seeded Extensiv orders have no bundle line"
    first, *others = list(bundle.components.order_by("external_id"))
    assert others, "the bundle has a single component"
    ship(sandbox, bundle.order, {first.external_id: first.quantity})
    run(channel.fulfillment, "shipments.download")
    run(channel, "shipments.upload")
    assert [sent_lines(s).get(bundle.external_id) for s in on_channel(channel, bundle.order)] == []

    assert not channel_order_shipped(sandbox, bundle.order)  # Extensiv waits for the whole order

    ship(sandbox, bundle.order, {c.external_id: c.quantity for c in others})
    ship(sandbox, bundle.order)  # the rest of the order
    run(channel.fulfillment, "shipments.download")
    bundle.refresh_from_db()
    assert bundle.quantity_shipped == bundle.quantity
    assert run(channel, "shipments.upload").created == 1
    assert channel_order_shipped(sandbox, bundle.order)
    event = bundle.order.events.filter(message__contains="marking the order shipped").get().message
    units = sum(line.quantity for line in bundle.order.lines.filter(parent=None))
    assert f"({units} unit(s)" in event  # the bundle line counted as bundles, not as its components


def test_a_dry_run_says_what_it_would_do_and_writes_nothing(submitted, run, sandbox):
    channel = submitted("channeladvisor")
    line = simple_line(channel)
    ship(sandbox, line.order, {line.external_id: 1})

    dry = run(channel.fulfillment, "shipments.download", dry_run=True)
    assert (dry.status, dry.seen) == ("ok", 1)
    assert not Shipment.objects.exists()
    run(channel.fulfillment, "shipments.download")
    assert run(channel, "shipments.upload", dry_run=True).seen == 1
    assert ShipmentUpload.objects.get().state == UploadState.PENDING
    assert on_channel(channel, line.order) == []


def test_nuorder_gets_the_invoice_number_with_the_shipment(submitted, run, sandbox):
    channel = submitted("nuorder")
    line = simple_line(channel)
    shipped = ship(sandbox, line.order, {line.external_id: 1})
    run(channel.fulfillment, "shipments.download")
    run(channel, "shipments.upload")

    (entry,) = sandbox.api("nuorder").orders[line.order.external_id]["shipments"]
    assert entry["invoice_number"] == shipped["invoice_number"] == Shipment.objects.get().invoice_number
    assert entry["tracking_numbers"] == [shipped["tracking_number"]]


@pytest.mark.parametrize("kind", SALES_KINDS)
def test_downloading_the_shipped_orders_again_keeps_their_status(kind, submitted, run, sandbox):
    channel = submitted(kind)
    line = simple_line(channel)
    ship(sandbox, line.order)
    run(channel.fulfillment, "shipments.download")
    run(channel, "shipments.upload")

    again = run(channel, "orders.download", since=datetime(2000, 1, 1, tzinfo=UTC))
    assert again.status == "ok" and again.seen >= 1
    order = Order.objects.get(pk=line.order.pk)
    assert (order.status, order.changed_after_submit) == (OrderStatus.SHIPPED, False)
    assert order.lines.get(pk=line.pk).quantity_shipped == line.quantity


def test_a_run_stopped_mid_batch_keeps_what_the_channel_took_and_sends_the_rest_once(submitted, run, sandbox):
    channel = submitted("extensiv")
    orders = list(Order.objects.filter(channel=channel).order_by("pk")[:3])
    for order in orders:
        ship(sandbox, order)
    run(channel.fulfillment, "shipments.download")
    # The channel takes the first shipment, then refuses our token: the run stops half way through its batch.
    sandbox.api("extensiv").inject("expired_token", times=20, method="PUT", path=r"/shipment/external$", after=1)

    stopped = run(channel, "shipments.upload")
    assert stopped.status == "failed"
    states = list(ShipmentUpload.objects.order_by("pk").values_list("state", "attempts"))
    assert states == [(UploadState.SENT, 1), (UploadState.PENDING, 1), (UploadState.PENDING, 1)]

    sandbox.api("extensiv").clear_faults()
    assert run(channel, "shipments.upload").created == 2
    assert [len(on_channel(channel, order)) for order in orders] == [1, 1, 1]
    assert set(ShipmentUpload.objects.values_list("state", flat=True)) == {UploadState.SENT}


@pytest.mark.parametrize("fault", ["status", "timeout"])
def test_nuorder_marks_the_order_shipped_even_when_its_shipment_is_already_held(
    fault, submitted, run, sandbox, settings
):
    # NuORDER takes a shipment in two calls (append it to the order, then mark the order shipped): a 5xx or a
    # timeout between them leaves the shipment held and the order open; the read-back must not skip the second.
    settings.HTTP_READ_TIMEOUT = 0.5
    channel = submitted("nuorder")
    order = simple_line(channel).order
    ship(sandbox, order)  # everything: this shipment completes the order
    run(channel.fulfillment, "shipments.download")
    api = sandbox.api("nuorder")
    api.inject(
        fault, times=100, status=500, delay=1.0, method="POST", path=rf"^/api/order/{order.external_id}/shipped$"
    )

    first = run(channel, "shipments.upload")
    assert first.status == "partial"
    assert len(on_channel(channel, order)) == 1  # the first side effect happened
    assert not channel_order_shipped(sandbox, order)
    assert ShipmentUpload.objects.get().state == UploadState.PENDING

    api.clear_faults()
    ShipmentUpload.objects.update(next_attempt_at=None)  # due now, not after the backoff
    assert run(channel, "shipments.upload").status == "ok"
    assert channel_order_shipped(sandbox, order)
    assert len(on_channel(channel, order)) == 1  # read back: not appended twice
    assert ShipmentUpload.objects.get().state == UploadState.SENT


def test_nuorder_a_200_it_cannot_read_is_settled_by_reading_back(submitted, run, sandbox):
    channel = submitted("nuorder")
    order = simple_line(channel).order
    ship(sandbox, order)
    run(channel.fulfillment, "shipments.download")
    api = sandbox.api("nuorder")
    # Answered 200 without being processed: counting it done would leave the order without its shipment.
    api.inject("malformed", method="POST", path=rf"^/api/order/{order.external_id}$")

    assert run(channel, "shipments.upload").status == "ok"  # retried in the run after reading back
    assert len(on_channel(channel, order)) == 1
    assert channel_order_shipped(sandbox, order)
    assert ShipmentUpload.objects.get().attempts == 2


@pytest.mark.django_db(transaction=True)  # the acknowledgement runs in a thread, on a connection of its own
def test_nuorder_an_acknowledgement_in_flight_never_sets_a_shipped_order_back_to_processed(sales, run, sandbox):
    # NuORDER's acknowledgement (read the order, then set it processed) and the shipment that completes the order
    # (append it, then set it shipped) both set the order's one status. Two workers ran them at once (two
    # clusters, issue 17): the acknowledgement read the order, the upload marked it shipped, then `processed`
    # landed on top and nothing marked it shipped again. Here the acknowledgement's `processed` is held in the
    # sandbox while the shipment upload runs.
    channel = sales("nuorder", flow_settings={"orders.acknowledge": {"enabled": True}})
    run(channel, "orders.download")
    run(channel.fulfillment, "orders.submit")
    order = simple_line(channel).order
    ship(sandbox, order)  # everything: this shipment completes the order
    run(channel.fulfillment, "shipments.download")
    api = sandbox.api("nuorder")
    held = api.inject("slow", delay=3.0, method="POST", path=rf"^/api/order/{order.external_id}/processed$")
    worker, errors = flow_in_thread(run, channel, "orders.acknowledge")
    assert held.reached.wait(timeout=30)  # the acknowledgement read the order; its `processed` is on its way
    run(channel, "shipments.upload")
    worker.join(timeout=60)
    assert not errors and not worker.is_alive()
    run(channel, "shipments.upload")

    assert api.order(order.external_id)["status"] == "shipped"
    assert len(on_channel(channel, order)) == 1
    assert api.calls_to("POST", rf"^/api/order/{order.external_id}/shipped$") == 1
    assert ShipmentUpload.objects.get(shipment__order=order).state == UploadState.SENT


def test_whole_order_confirmation_waits_for_every_parcel_then_sends_all_of_them_once(submitted, run, sandbox):
    channel = submitted("extensiv")
    line = simple_line(channel)
    order = line.order
    others = [o.external_id for o in order.lines.filter(parent=None, is_bundle=False).exclude(pk=line.pk)]
    first = ship(sandbox, order, {line.external_id: 1})
    run(channel.fulfillment, "shipments.download")

    waiting = run(channel, "shipments.upload")
    assert (waiting.status, waiting.created, waiting.skipped) == ("ok", 0, 1)
    assert uploads_on_sandbox(sandbox, "extensiv") == 0 and not channel_order_shipped(sandbox, order)
    upload = ShipmentUpload.objects.get()
    assert (upload.state, upload.attempts) == (UploadState.PENDING, 0)  # waiting, not failed

    second = ship(sandbox, order, {line.external_id: 1})
    third = ship(sandbox, order)  # everything still open
    run(channel.fulfillment, "shipments.download")
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED, others

    sent = run(channel, "shipments.upload")
    assert (sent.status, sent.created) == ("ok", 1)
    assert uploads_on_sandbox(sandbox, "extensiv") == 1  # one confirmation for the order
    (body,) = sandbox.api("extensiv").uploads
    trackings = [first["tracking_number"], second["tracking_number"], third["tracking_number"]]
    assert [entry["trackingNumber"] for entry in body["shipments"]] == trackings
    assert channel_order_shipped(sandbox, order)
    assert {s.tracking_number for s in on_channel(channel, order)} == set(trackings)
    assert set(ShipmentUpload.objects.values_list("state", flat=True)) == {UploadState.SENT}
    assert order.events.filter(message__contains="with the whole order").count() == 2

    again = run(channel, "shipments.upload")
    assert (again.seen, again.created) == (0, 0) and uploads_on_sandbox(sandbox, "extensiv") == 1


def test_whole_order_confirmation_refused_fails_every_parcel_of_the_order(submitted, run, sandbox):
    channel = submitted("extensiv")
    line = simple_line(channel)
    ship(sandbox, line.order, {line.external_id: 1})
    ship(sandbox, line.order)
    run(channel.fulfillment, "shipments.download")
    sandbox.api("extensiv").modify_order(int(line.order.external_id), orderStatus="SHIPPED")  # shipped inside OM

    refused = run(channel, "shipments.upload")

    assert refused.status == "partial"
    assert list(ShipmentUpload.objects.values_list("state", flat=True)) == [UploadState.FAILED] * 2
    assert all("already shipped" in e for e in ShipmentUpload.objects.values_list("last_error", flat=True))
