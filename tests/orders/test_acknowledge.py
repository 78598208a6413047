"""orders.acknowledge: the channel learns the fulfillment number (NuORDER's order number is replaced)."""

import pytest

from orders.models import Order, OrderStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(sales, run):
    def make(kind: str):
        channel = sales(kind)
        run(channel, "orders.download")
        assert run(channel.fulfillment, "orders.submit").status == "ok"
        return channel

    return make


def test_nuorder_orders_are_marked_processed_and_take_the_fulfillment_number(submitted, run, sandbox):
    channel = submitted("nuorder")
    result = run(channel, "orders.acknowledge")
    assert result.status == "ok" and result.updated == Order.objects.count()
    api = sandbox.api("nuorder")
    for order in Order.objects.filter(channel=channel):
        remote = api.order(order.external_id)
        assert (remote["status"], remote["order_number"]) == ("processed", order.fulfillment_number)
        assert order.status == OrderStatus.ACKNOWLEDGED and order.acknowledged_at
    assert run(channel, "orders.acknowledge").seen == 0


def test_after_the_writeback_a_redownload_follows_the_new_number_without_flagging(submitted, run):
    channel = submitted("nuorder")
    run(channel, "orders.acknowledge")
    # NuORDER now lists them as processed: read them the way a backfill or a wider status filter would.
    channel.settings = {**channel.settings, "order_statuses": ["processed"]}
    channel.save()
    run(channel, "orders.download", since=Order.objects.earliest("placed_at").placed_at)
    for order in Order.objects.filter(channel=channel, status=OrderStatus.ACKNOWLEDGED):
        assert order.number == order.fulfillment_number
        assert not order.changed_after_submit


def test_channeladvisor_orders_are_marked_exported(submitted, run, sandbox):
    channel = submitted("channeladvisor")
    assert run(channel, "orders.acknowledge").status == "ok"
    ids = set(Order.objects.filter(channel=channel).values_list("external_id", flat=True))
    assert {str(i) for i in sandbox.api("channeladvisor").exported} == ids
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.ACKNOWLEDGED}


def test_extensiv_has_no_acknowledgement_so_the_run_is_skipped(submitted, run):
    channel = submitted("extensiv")
    result = run(channel, "orders.acknowledge")
    assert result.status == "skipped"
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.SUBMITTED}


def test_a_refused_acknowledgement_goes_to_the_issue_queue_and_is_retried(submitted, run, sandbox):
    channel = submitted("nuorder")
    api = sandbox.api("nuorder")
    api.inject("status", times=1000, status=400, path="/api/order/")
    result = run(channel, "orders.acknowledge")
    api.clear_faults()
    assert result.status == "partial" and result.failed == Order.objects.count()
    assert run(channel, "orders.acknowledge").updated == Order.objects.count()


def test_an_order_shipped_while_the_channel_is_told_is_still_recorded_acknowledged(submitted, run):
    """The bench of a whole day found it: shipments.download moved an order to shipped between the
    acknowledgement's read of it and its transition, and the run crashed with IllegalTransition."""
    from orders.acknowledgement import order_acknowledged

    channel = submitted("nuorder")
    stale = Order.objects.filter(channel=channel).first()
    assert stale.status == OrderStatus.SUBMITTED
    Order.objects.filter(pk=stale.pk).update(status=OrderStatus.SHIPPED)  # another worker, meanwhile
    order_acknowledged(order=stale)
    stale.refresh_from_db()
    assert stale.status == OrderStatus.SHIPPED and stale.acknowledged_at is not None
