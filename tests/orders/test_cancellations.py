"""Cancellations: deleted from the fulfillment system while it can; kept, flagged and queued once locked."""

import pytest

from orders.models import EventKind, Order, OrderStatus
from tests.orders.conftest import open_issues

pytestmark = pytest.mark.django_db


@pytest.fixture
def extensiv(sales, run):
    """An Extensiv channel with its orders downloaded and submitted to the sandbox OMS."""
    channel = sales("extensiv")
    run(channel, "orders.download")
    run(channel.fulfillment, "orders.submit")
    return channel


def first_order(channel):
    return Order.objects.filter(channel=channel).order_by("external_id").first()


def test_an_open_order_cancelled_on_extensiv_is_deleted_from_the_fulfillment_system(extensiv, run, sandbox):
    order = first_order(extensiv)
    sandbox.api("extensiv").cancel_order(int(order.external_id))
    result = run(extensiv, "cancellations.download")
    assert result.status == "ok", result.error
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and not order.cancel_requested
    assert sandbox.api("oms").orders[order.fulfillment_number]["status"] == "cancelled"
    assert "deleted" in order.events.get(to_status="cancelled").message
    others = Order.objects.filter(channel=extensiv).exclude(pk=order.pk)
    assert set(others.values_list("status", flat=True)) == {OrderStatus.SUBMITTED}


def test_a_locked_order_cancelled_on_extensiv_is_kept_flagged_and_queued_for_a_person(extensiv, run, sandbox):
    order = first_order(extensiv)
    oms = sandbox.api("oms")
    oms.batch(order.fulfillment_number)
    sandbox.api("extensiv").cancel_order(int(order.external_id))
    result = run(extensiv, "cancellations.download")
    order.refresh_from_db()
    assert (order.status, order.cancel_requested) == (OrderStatus.BATCHED, True)
    assert oms.orders[order.fulfillment_number]["status"] == "batched"
    assert "kept" in order.events.get(kind=EventKind.CANCEL).message
    assert "A person must stop it" in open_issues(extensiv, "cancellations.download")[order.external_id]
    assert result.status == "partial"

    run(extensiv, "cancellations.download", since=order.placed_at)  # read again: one event, still queued
    assert order.events.filter(kind=EventKind.CANCEL).count() == 1
    assert order.external_id in open_issues(extensiv, "cancellations.download")


def test_an_order_cancelled_before_submission_is_cancelled_without_calling_the_fulfillment_system(sales, run, sandbox):
    channel = sales("extensiv")
    run(channel, "orders.download")
    order = first_order(channel)
    sandbox.api("extensiv").cancel_order(int(order.external_id))
    run(channel, "cancellations.download")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert sandbox.api("oms").orders == {}


@pytest.mark.parametrize("kind", ["channeladvisor", "nuorder"])
def test_an_order_downloaded_as_cancelled_is_deleted_from_the_fulfillment_system(kind, sales, run, sandbox):
    channel = sales(kind, settings={"order_statuses": ["approved", "cancelled"]} if kind == "nuorder" else {})
    run(channel, "orders.download")
    run(channel.fulfillment, "orders.submit")
    order = first_order(channel)
    api = sandbox.api(kind)
    api.cancel_order(int(order.external_id) if kind == "channeladvisor" else order.external_id)
    result = run(channel, "orders.download", since=order.placed_at)
    assert result.status == "ok", result.error
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert sandbox.api("oms").orders[order.fulfillment_number]["status"] == "cancelled"


@pytest.mark.parametrize("kind", ["channeladvisor", "nuorder"])
def test_cancellations_download_handles_channeladvisor_and_nuorder_too(kind, sales, run, sandbox):
    channel = sales(kind)
    run(channel, "orders.download")
    run(channel.fulfillment, "orders.submit")
    order = first_order(channel)
    sandbox.api("oms").batch(order.fulfillment_number)
    sandbox.api(kind).cancel_order(int(order.external_id) if kind == "channeladvisor" else order.external_id)
    run(channel, "cancellations.download")
    order.refresh_from_db()
    assert (order.status, order.cancel_requested) == (OrderStatus.BATCHED, True)
    assert order.external_id in open_issues(channel, "cancellations.download")
