"""orders.submit a batch at a time, and fanned out to chunk tasks above ORDERS_SUBMIT_FANOUT ready orders: every
order sent once, its claim kept to one sender (a chunk waiting in the queue included), cancellations settled."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.module_loading import import_string

from catalog.models import ItemMapping, MappingStatus
from integrations.cursors import lease_holder
from orders.models import HoldReason, Order, OrderStatus
from orders.states import order_transition
from orders.submission import CLAIM_STALE
from tests.orders.conftest import cancel_on_channel

pytestmark = pytest.mark.django_db

CHUNK_TASK = "orders.tasks.orders_submit_chunk"


@pytest.fixture
def downloaded(sales, run):
    channel = sales("extensiv")
    assert run(channel, "orders.download").status == "ok"
    return channel


@pytest.fixture
def fanned_out(settings):
    settings.ORDERS_SUBMIT_FANOUT = 1
    settings.ORDERS_SUBMIT_CHUNK = 2


def run_tasks(tasks) -> list[dict]:
    """What a django-q2 worker does with each."""
    return [import_string(task["func"])(*task["args"]) for task in tasks]


def test_a_submission_run_costs_a_few_queries_per_batch_not_per_order(downloaded, run, sandbox):
    orders = Order.objects.filter(channel=downloaded).count()
    assert orders >= 5
    with CaptureQueriesContext(connection) as queries:
        result = run(downloaded.fulfillment, "orders.submit")
    assert (result.status, result.created) == ("ok", orders)
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "orders_order"')]
    assert len(writes) < orders  # one by one it was four UPDATEs an order (claim, attempt, status, release)
    assert sandbox.api("oms").submits == orders
    assert not Order.objects.exclude(submitting_at=None).exists()  # every claim let go


def test_an_order_another_live_submission_holds_is_left_to_it_and_the_rest_of_its_batch_is_sent(
    downloaded, run, sandbox
):
    held = Order.objects.filter(channel=downloaded).order_by("placed_at", "id")[1]
    Order.objects.filter(pk=held.pk).update(submitting_at=timezone.now(), submitting_by=lease_holder())
    result = run(downloaded.fulfillment, "orders.submit")
    held.refresh_from_db()
    assert held.status == OrderStatus.DOWNLOADED and held.submit_attempts == 0
    assert sandbox.api("oms").orders_for(held.number) == []
    others = Order.objects.filter(channel=downloaded).exclude(pk=held.pk)
    assert set(others.values_list("status", flat=True)) == {OrderStatus.SUBMITTED}
    assert (result.created, result.skipped) == (others.count(), 1)


def test_above_the_threshold_the_submission_fans_out_into_chunk_tasks_any_worker_runs(
    downloaded, run, sandbox, fanned_out, queued_tasks
):
    orders = Order.objects.filter(channel=downloaded)
    count = orders.count()
    oms = sandbox.api("oms")
    first = run(downloaded.fulfillment, "orders.submit")
    tasks = queued_tasks()
    assert len(tasks) == -(-count // 2)
    assert {task["func"] for task in tasks} == {CHUNK_TASK}
    assert oms.submits == 0  # nothing is sent by the run itself
    assert first.status == "ok" and f"{count} order(s) queued as {len(tasks)} chunk task(s)" in first.note
    assert all(by.startswith("queued:") for by in orders.values_list("submitting_by", flat=True))

    run(downloaded.fulfillment, "orders.submit")  # the next run finds them claimed: nothing queued twice
    assert len(queued_tasks()) == len(tasks)

    results = run_tasks(tasks)
    assert set(orders.values_list("status", flat=True)) == {OrderStatus.SUBMITTED}
    assert oms.submits == count  # each order once
    assert sum(r["created"] for r in results) == count and {r["status"] for r in results} == {"ok"}
    assert not orders.exclude(submitting_at=None).exists()
    chunk_runs = downloaded.fulfillment.runs.filter(flow="orders.submit").exclude(pk=first.pk).filter(created__gt=0)
    assert chunk_runs.count() == len(tasks)

    run_tasks(tasks)  # a chunk run again (a retried task) finds its orders submitted: nothing sent twice
    assert oms.submits == count


def test_an_order_cancelled_while_its_chunk_waits_is_cancelled_by_the_chunk_and_never_sent(
    downloaded, run, sandbox, fanned_out, queued_tasks
):
    run(downloaded.fulfillment, "orders.submit")
    order = Order.objects.filter(channel=downloaded).order_by("placed_at", "id").first()
    cancel_on_channel(sandbox, order)
    run(downloaded, "cancellations.download")
    order.refresh_from_db()
    assert (order.status, order.cancel_requested) == (OrderStatus.DOWNLOADED, True)  # left to its chunk

    run_tasks(queued_tasks())
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and not order.cancel_requested
    assert sandbox.api("oms").orders_for(order.number) == []
    others = Order.objects.filter(channel=downloaded).exclude(pk=order.pk)
    assert set(others.values_list("status", flat=True)) == {OrderStatus.SUBMITTED}


def test_a_chunk_that_never_ran_lets_its_claims_go_stale_and_the_next_run_sends_them_once(
    downloaded, run, sandbox, settings, fanned_out, queued_tasks
):
    run(downloaded.fulfillment, "orders.submit")
    tasks = queued_tasks()
    orders = Order.objects.filter(channel=downloaded)
    orders.update(submitting_at=timezone.now() - CLAIM_STALE - timedelta(minutes=1))  # its worker never came
    settings.ORDERS_SUBMIT_FANOUT = 1000
    result = run(downloaded.fulfillment, "orders.submit")
    assert result.created == orders.count()
    assert set(orders.values_list("status", flat=True)) == {OrderStatus.SUBMITTED}

    results = run_tasks(tasks)  # the chunks, late: their claims were taken over
    assert sum(r["created"] for r in results) == 0
    assert sandbox.api("oms").submits == orders.count()


def test_the_next_run_leaves_a_queued_chunks_orders_to_it_and_the_chunk_lets_go_of_one_held_meanwhile(
    downloaded, run, sandbox, fanned_out, queued_tasks
):
    run(downloaded.fulfillment, "orders.submit")
    tasks = queued_tasks()
    orders = Order.objects.filter(channel=downloaded).order_by("placed_at", "id")
    first = orders.first()
    line = first.lines.filter(parent=None).first()
    ItemMapping.objects.filter(channel=downloaded, channel_sku=line.channel_sku).update(
        item=None, status=MappingStatus.UNMAPPED
    )
    again = run(downloaded.fulfillment, "orders.submit")  # its hold check and its submission pass them by
    first.refresh_from_db()
    assert first.status == OrderStatus.DOWNLOADED and (again.seen, again.skipped) == (0, 0)

    order_transition(
        order=first,
        to=OrderStatus.HELD,
        message="Held by a person.",
        fields={"hold_reason": HoldReason.NO_CUSTOMER, "hold_detail": "held by a person"},
    )
    run_tasks(tasks)
    first.refresh_from_db()
    assert (first.status, first.submitting_at, first.submitting_by) == (OrderStatus.HELD, None, "")
    assert sandbox.api("oms").orders_for(first.number) == []
    assert set(orders.exclude(pk=first.pk).values_list("status", flat=True)) == {OrderStatus.SUBMITTED}
