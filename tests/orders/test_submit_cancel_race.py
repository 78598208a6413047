"""A submission racing a cancellation: an order must never end cancelled in the hub and open in the warehouse.

The submission claims the order (committed before anything is sent); a cancellation that arrives meanwhile
leaves a claimed order to the submission, which either lands (then the cancellation deletes it there) or is
settled by the next submission run (looked up by its key; never sent, cancelled here)."""

import time
from contextlib import closing
from datetime import timedelta

import pytest

from integrations.connectors import connector_for
from orders.models import Order, OrderStatus
from orders.submission import fulfillment_order, submission_claim, submission_record
from tests.orders.conftest import cancel_on_channel, flow_in_thread

POST_ORDERS = "/api/v1/orders$"


def downloaded(sales, run):
    channel = sales("extensiv")
    run(channel, "orders.download")
    return channel, Order.objects.filter(channel=channel).order_by("external_id").first()


def open_in_oms(sandbox, order) -> list[dict]:
    return [o for o in sandbox.api("oms").orders_for(order.number) if o["status"] == "open"]


@pytest.mark.django_db
def test_a_cancellation_leaves_an_order_being_submitted_to_the_submission(sales, run, sandbox):
    channel, order = downloaded(sales, run)
    assert submission_claim(order=order)  # a submission has it, about to send
    cancel_on_channel(sandbox, order)
    run(channel, "cancellations.download")
    order.refresh_from_db()
    assert (order.status, order.cancel_requested) == (OrderStatus.DOWNLOADED, True)


@pytest.mark.django_db
def test_a_claimed_order_that_was_never_sent_is_cancelled_by_the_next_submission_run(sales, run, sandbox):
    channel, order = downloaded(sales, run)
    submission_claim(order=order)
    cancel_on_channel(sandbox, order)
    run(channel, "cancellations.download")
    Order.objects.filter(pk=order.pk).update(submitting_at=None)  # that submission ended without sending

    result = run(channel.fulfillment, "orders.submit")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and not order.cancel_requested
    assert not sandbox.api("oms").orders_for(order.number)
    assert result.failed == 0


@pytest.mark.django_db
def test_a_worker_that_died_after_its_order_landed_leaves_it_deleted_there_and_cancelled_here(sales, run, sandbox):
    channel, order = downloaded(sales, run)
    submission_claim(order=order)
    submission_record(order=order)
    with closing(connector_for(channel.fulfillment)) as oms:
        oms.order_submit(fulfillment_order(order))  # it landed; then the worker was killed
    Order.objects.filter(pk=order.pk).update(submitting_at=order.submitting_at - timedelta(hours=1))
    cancel_on_channel(sandbox, order)
    run(channel, "cancellations.download")
    order.refresh_from_db()
    assert order.status == OrderStatus.DOWNLOADED and order.cancel_requested

    run(channel.fulfillment, "orders.submit")  # finds the landed order by its key instead of cancelling here
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED and order.cancel_requested
    run(channel, "cancellations.download")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert not open_in_oms(sandbox, order)


@pytest.mark.django_db(transaction=True)
def test_a_cancellation_during_a_slow_submission_never_leaves_the_order_open_in_the_warehouse(sales, run, sandbox):
    channel, order = downloaded(sales, run)
    sandbox.api("oms").inject("slow", times=100, delay=0.5, method="POST", path=POST_ORDERS)
    worker, errors = flow_in_thread(run, channel.fulfillment, "orders.submit")
    for _ in range(200):  # until the submission has claimed our order
        if Order.objects.filter(pk=order.pk, submitting_at__isnull=False).exists():
            break
        time.sleep(0.01)
    cancel_on_channel(sandbox, order)
    run(channel, "cancellations.download")
    worker.join(timeout=60)
    sandbox.api("oms").clear_faults()
    assert not errors
    run(channel, "cancellations.download")  # the cancellation follows the submission that landed

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert not open_in_oms(sandbox, order)
