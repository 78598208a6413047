"""Order flows killed with SIGKILL at the points that matter, in a real `manage.py sync` process: the sandbox takes
(or holds) the request, the process dies before the hub commits, and the next run completes with nothing lost
and nothing twice on the other side, counted from the sandbox's own state and journal of the requests it got."""

from contextlib import closing

import pytest

from integrations.connectors import connector_for
from integrations.connectors.records import SkippedRecord
from integrations.cursors import cursor_position
from orders.models import Order, OrderStatus, ShipmentUpload, UploadState
from orders.sync import DOWNLOAD
from tests.crash import HOLD, killed_at, run_after_crash
from tests.orders.conftest import SALES_KINDS, order_shapes
from tests.orders.test_shipments import UPLOAD_CALL, channel_order_shipped, first_parcel, on_channel, ship, simple_line

pytestmark = pytest.mark.django_db(transaction=True)
OMS_SUBMIT = r"^/api/v1/orders$"


def served(channel) -> dict[str, int]:
    """What the channel serves to a full download: each order's id and its number of lines."""
    with closing(connector_for(channel)) as connector:
        records = connector.orders_download(since=None)
        return {r.external_id: len(r.lines) for r in records if not isinstance(r, SkippedRecord)}


def test_an_order_download_killed_mid_page_before_its_cursor_moved_loses_and_repeats_nothing(sales, sandbox):
    channel = sales("channeladvisor", settings={"page_size": 2})
    expected = served(channel)
    assert len(expected) > 2, "the seeded world needs orders on a second page"
    # The second page is requested and never answered: the process dies with page one read, nothing committed.
    held = sandbox.api("channeladvisor").inject("timeout", method="GET", path=r"^/v1/Orders$", after=1, delay=HOLD)

    killed_at(held, channel, DOWNLOAD)
    assert cursor_position(channel=channel, flow=DOWNLOAD) == ""  # the cursor moves only with a committed chunk

    after = run_after_crash(channel, DOWNLOAD)
    assert after.status == "ok", after.error
    assert {key: parents for key, (parents, _) in order_shapes(channel).items()} == expected
    assert cursor_position(channel=channel, flow=DOWNLOAD) != ""
    again = run_after_crash(channel, DOWNLOAD)
    assert (again.created, again.updated) == (0, 0)


def test_a_submission_killed_after_the_oms_took_an_order_sends_each_order_once(sales, run, sandbox, oms):
    channel = sales("nuorder")
    assert run(channel, DOWNLOAD).status == "ok"
    orders = Order.objects.filter(channel=channel).count()
    assert orders > 1, "the seeded world needs two orders on one channel"
    api = sandbox.api("oms")
    # The OMS creates the second order and holds its answer: the hub never hears its fulfillment number.
    held = api.inject("drop_after", method="POST", path=OMS_SUBMIT, after=1, delay=HOLD)

    killed_at(held, oms, "orders.submit")
    assert api.submits == 2

    after = run_after_crash(oms, "orders.submit")
    assert after.status == "ok", (after.error, after.note)
    assert api.submits == orders  # each created once; the lost answer's order was a replay of its key
    assert len({o["idempotency_key"] for o in api.orders.values()}) == orders
    submitted = Order.objects.filter(channel=channel, status=OrderStatus.SUBMITTED)
    assert set(submitted.values_list("fulfillment_number", flat=True)) == set(api.orders)


def nuorder_shipped_order(submitted, run, sandbox):
    channel = submitted("nuorder")
    order = simple_line(channel).order
    ship(sandbox, order)  # everything: this shipment completes the order, so it is appended, then marked shipped
    assert run(channel.fulfillment, "shipments.download").created == 1
    return channel, order


@pytest.mark.parametrize(
    "step",
    [
        pytest.param(("drop_after", ""), id="answer-to-add-shipment-lost"),
        pytest.param(("timeout", "/shipped"), id="between-add-shipment-and-mark-shipped"),
    ],
)
def test_a_nuorder_shipment_killed_between_its_two_calls_is_completed_once(step, submitted, run, sandbox):
    kind, suffix = step
    channel, order = nuorder_shipped_order(submitted, run, sandbox)
    api = sandbox.api("nuorder")
    append = rf"^/api/order/{order.external_id}$"
    held = api.inject(kind, method="POST", path=rf"^/api/order/{order.external_id}{suffix}$", delay=HOLD)

    killed_at(held, channel, "shipments.upload")
    assert len(on_channel(channel, order)) == 1  # the first side effect happened either way
    assert not channel_order_shipped(sandbox, order)

    after = run_after_crash(channel, "shipments.upload")
    assert after.status == "ok", after.error
    assert len(on_channel(channel, order)) == 1  # read back: not appended twice
    assert channel_order_shipped(sandbox, order)
    assert api.calls_to("POST", append) == 1
    # The journal holds the requests the sandbox processed: the held one never was (timeout) or was the append.
    assert api.calls_to("POST", rf"^/api/order/{order.external_id}/shipped$") == 1
    assert ShipmentUpload.objects.get().state == UploadState.SENT


@pytest.mark.parametrize("kind", SALES_KINDS)
def test_a_shipment_upload_killed_after_the_channel_took_it_is_not_sent_again(kind, submitted, run, sandbox):
    channel = submitted(kind)
    line = simple_line(channel)
    ship(sandbox, line.order, first_parcel(kind, line))
    assert run(channel.fulfillment, "shipments.download").created >= 1
    method, path = UPLOAD_CALL[kind]
    api = sandbox.api(kind)
    held = api.inject("drop_after", method=method, path=path, delay=HOLD)

    killed_at(held, channel, "shipments.upload")
    assert len(on_channel(channel, line.order)) == 1

    after = run_after_crash(channel, "shipments.upload")
    assert after.status == "ok", after.error
    assert len(on_channel(channel, line.order)) == 1
    assert api.calls_to(method, path) == 1  # the journal: the channel was sent it once
    assert set(ShipmentUpload.objects.values_list("state", flat=True)) == {UploadState.SENT}


@pytest.mark.parametrize(
    "step",
    [
        pytest.param(("drop_after", "/processed"), id="answer-to-processed-lost"),
        pytest.param(("timeout", ""), id="between-processed-and-the-order-number"),
    ],
)
def test_an_acknowledgement_killed_between_its_two_calls_is_completed_once(step, submitted, sandbox):
    kind, suffix = step
    channel = submitted("nuorder")
    order = Order.objects.filter(channel=channel, status=OrderStatus.SUBMITTED).order_by("external_id").first()
    api = sandbox.api("nuorder")
    processed = rf"^/api/order/{order.external_id}/processed$"
    held = api.inject(kind, method="POST", path=rf"^/api/order/{order.external_id}{suffix}$", delay=HOLD)

    killed_at(held, channel, "orders.acknowledge")
    assert api.orders[order.external_id]["status"] == "processed"  # the first side effect happened either way

    after = run_after_crash(channel, "orders.acknowledge")
    assert after.status == "ok", after.error
    assert api.orders[order.external_id]["order_number"] == order.fulfillment_number
    assert api.calls_to("POST", processed) == 1  # read back: not set again
