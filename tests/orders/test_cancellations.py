"""Cancellations on every sales channel: deleted from the fulfillment system while it can; kept, flagged and
queued for a person once the warehouse has locked the order."""

import pytest

from orders.models import EventKind, Order, OrderStatus
from tests.orders.conftest import SALES_KINDS, cancel_on_channel, open_issues

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(sales, run):
    """`submitted(kind)`: a sales channel with its orders downloaded and submitted to the sandbox OMS."""

    def make(kind: str, **overrides):
        channel = sales(kind, **overrides)
        run(channel, "orders.download")
        run(channel.fulfillment, "orders.submit")
        return channel

    return make


def first_order(channel):
    return Order.objects.filter(channel=channel).order_by("external_id").first()


@pytest.mark.parametrize("kind", SALES_KINDS)
def test_an_open_order_cancelled_on_the_channel_is_deleted_from_the_fulfillment_system(kind, submitted, run, sandbox):
    channel = submitted(kind)
    order = first_order(channel)
    cancel_on_channel(sandbox, order)
    result = run(channel, "cancellations.download")
    assert result.status == "ok", result.error
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and not order.cancel_requested
    assert sandbox.api("oms").orders[order.fulfillment_number]["status"] == "cancelled"
    assert "deleted" in order.events.get(to_status="cancelled").message
    assert (result.seen, result.updated, result.failed) == (1, 1, 0)  # counted once, where it was deleted
    others = Order.objects.filter(channel=channel).exclude(pk=order.pk)
    assert OrderStatus.CANCELLED not in set(others.values_list("status", flat=True))


@pytest.mark.parametrize("kind", SALES_KINDS)
def test_a_locked_order_cancelled_on_the_channel_is_kept_flagged_and_queued_for_a_person(kind, submitted, run, sandbox):
    channel = submitted(kind)
    order = first_order(channel)
    oms = sandbox.api("oms")
    oms.batch(order.fulfillment_number)
    cancel_on_channel(sandbox, order)
    result = run(channel, "cancellations.download")
    order.refresh_from_db()
    assert (order.status, order.cancel_requested) == (OrderStatus.BATCHED, True)
    assert oms.orders[order.fulfillment_number]["status"] == "batched"
    assert "kept" in order.events.get(kind=EventKind.CANCEL).message
    assert "A person must stop it" in open_issues(channel, "cancellations.download")[order.external_id]
    assert result.status == "partial"
    assert (result.seen, result.updated, result.failed) == (1, 0, 1)

    run(channel, "cancellations.download", since=order.placed_at)  # read again: one event, still queued
    assert order.events.filter(kind=EventKind.CANCEL).count() == 1
    assert order.external_id in open_issues(channel, "cancellations.download")


@pytest.mark.parametrize("kind", SALES_KINDS)
def test_an_order_cancelled_before_submission_is_cancelled_without_calling_the_fulfillment_system(
    kind, sales, run, sandbox
):
    channel = sales(kind)
    run(channel, "orders.download")
    order = first_order(channel)
    cancel_on_channel(sandbox, order)
    run(channel, "cancellations.download")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert sandbox.api("oms").orders == {}


@pytest.mark.parametrize("kind", ["channeladvisor", "nuorder"])
def test_an_order_downloaded_as_cancelled_is_deleted_from_the_fulfillment_system(kind, submitted, run, sandbox):
    # Extensiv's download keeps to its statuses (AWAITING_SHIPMENT); cancellations come by their own flow.
    channel = submitted(kind, settings={"order_statuses": ["approved", "cancelled"]} if kind == "nuorder" else {})
    order = first_order(channel)
    cancel_on_channel(sandbox, order)
    result = run(channel, "orders.download", since=order.placed_at)
    assert result.status == "ok", result.error
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert sandbox.api("oms").orders[order.fulfillment_number]["status"] == "cancelled"
