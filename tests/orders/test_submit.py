"""orders.submit: hold rules, automatic release, and submission to the sandbox OMS with an idempotency key."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Item, ItemMapping, MappingStatus
from orders.models import HoldReason, Order, OrderRules, OrderStatus
from tests.orders.conftest import SALES_KINDS, open_issues

pytestmark = pytest.mark.django_db


@pytest.fixture
def downloaded(sales, run):
    """`downloaded("extensiv")`: a sales channel with its orders downloaded."""

    def make(kind: str, **overrides):
        channel = sales(kind, **overrides)
        assert run(channel, "orders.download").status == "ok"
        return channel

    return make


@pytest.mark.parametrize("kind", SALES_KINDS)
def test_ready_orders_are_submitted_once_each_and_get_their_fulfillment_number(kind, downloaded, run, sandbox):
    channel = downloaded(kind)
    result = run(channel.fulfillment, "orders.submit")
    assert result.status == "ok", result.error
    oms = sandbox.api("oms")
    orders = Order.objects.filter(channel=channel)
    assert set(orders.values_list("status", flat=True)) == {OrderStatus.SUBMITTED}
    for order in orders:
        (submitted,) = oms.orders_for(order.number)
        assert submitted["number"] == order.fulfillment_number
        assert submitted["idempotency_key"] == order.idempotency_key == f"{channel.slug}:{order.external_id}:0"
    assert run(channel.fulfillment, "orders.submit").seen == 0  # nothing left to send
    assert oms.submits == orders.count()


def test_a_bundle_reaches_the_fulfillment_system_as_its_components(downloaded, run, sandbox):
    channel = downloaded("extensiv")
    run(channel.fulfillment, "orders.submit")
    order = Order.objects.get(channel=channel, lines__channel_sku="KIT1")
    (submitted,) = sandbox.api("oms").orders_for(order.number)
    kit = next(c for c in sandbox.world.items if c.sku == "KIT1")
    bundle_quantity = order.lines.get(channel_sku="KIT1").quantity
    sent = {line["sku"]: line["quantity"] for line in submitted["lines"]}
    assert "KIT1" not in sent
    assert all(sent[sku] == qty * bundle_quantity for sku, qty in kit.components)


@pytest.mark.parametrize("kind", SALES_KINDS)
def test_an_unmapped_sku_holds_the_order_with_its_reason_until_the_listing_is_mapped(kind, downloaded, run, sandbox):
    channel = downloaded(kind)
    order = Order.objects.filter(channel=channel).order_by("external_id").first()
    line = order.lines.filter(parent=None).first()
    mapping = ItemMapping.objects.get(channel=channel, channel_sku=line.channel_sku)
    item = mapping.item
    ItemMapping.objects.filter(pk=mapping.pk).update(item=None, status=MappingStatus.UNMAPPED)

    run(channel.fulfillment, "orders.submit")
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == (OrderStatus.HELD, HoldReason.UNMAPPED_SKU)
    assert f"SKU {line.channel_sku} is not mapped" in order.hold_detail
    assert sandbox.api("oms").orders_for(order.number) == []

    ItemMapping.objects.filter(pk=mapping.pk).update(item=item, status=MappingStatus.MAPPED)
    run(channel.fulfillment, "orders.submit")
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED and order.hold_reason == ""
    assert order.events.filter(from_status="held", to_status="downloaded", message__startswith="Released").exists()
    assert len(sandbox.api("oms").orders_for(order.number)) == 1


def test_an_inactive_item_holds_the_order(downloaded, run):
    channel = downloaded("extensiv")
    order = Order.objects.filter(channel=channel).order_by("external_id").first()
    item = order.lines.exclude(item=None).first().item
    Item.objects.filter(pk=item.pk).update(active=False)
    run(channel.fulfillment, "orders.submit")
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == (OrderStatus.HELD, HoldReason.INACTIVE_ITEM)
    assert item.sku in order.hold_detail


def test_an_order_without_a_customer_is_held_where_the_channel_requires_one(downloaded, run):
    channel = downloaded("extensiv")
    OrderRules.objects.update_or_create(channel=channel, defaults={"require_customer": True})
    order = Order.objects.filter(channel=channel).first()
    Order.objects.filter(pk=order.pk).update(customer=None)
    run(channel.fulfillment, "orders.submit")
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == (OrderStatus.HELD, HoldReason.NO_CUSTOMER)
    assert Order.objects.filter(channel=channel, status=OrderStatus.SUBMITTED).count() > 0


def test_an_incomplete_ship_to_holds_the_order_and_names_what_is_missing(downloaded, run):
    channel = downloaded("extensiv")
    order = Order.objects.filter(channel=channel).first()
    Order.objects.filter(pk=order.pk).update(ship_to={**order.ship_to, "postal_code": "", "line1": ""})
    run(channel.fulfillment, "orders.submit")
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == (OrderStatus.HELD, HoldReason.SHIP_TO_INCOMPLETE)
    assert "missing street, postal code" in order.hold_detail


def test_a_lost_answer_is_sent_again_with_the_same_key_and_the_order_is_created_once(downloaded, run, sandbox):
    channel = downloaded("extensiv")
    order = Order.objects.filter(channel=channel).order_by("placed_at").first()
    oms = sandbox.api("oms")
    # Every attempt of the run reaches the OMS, which creates the order, and then the answer is lost.
    oms.inject("drop_after", times=50, method="POST", path="/api/v1/orders$")
    result = run(channel.fulfillment, "orders.submit")
    oms.clear_faults()
    order.refresh_from_db()
    assert order.status == OrderStatus.DOWNLOADED  # pending: the outcome is unknown
    assert order.idempotency_key and order.next_attempt_at > timezone.now()
    assert (
        "may have arrived" in open_issues(channel.fulfillment, "orders.submit")[f"{channel.slug}/{order.external_id}"]
    )
    assert result.status == "partial"

    Order.objects.filter(channel=channel).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    run(channel.fulfillment, "orders.submit")
    order.refresh_from_db()
    (created,) = oms.orders_for(order.number)
    assert order.status == OrderStatus.SUBMITTED and order.fulfillment_number == created["number"]
    assert created["idempotency_key"] == order.idempotency_key
    assert oms.replays >= 1
    assert not open_issues(channel.fulfillment, "orders.submit")


def test_failed_submissions_back_off_then_wait_for_a_person(downloaded, run, sandbox):
    channel = downloaded("extensiv")
    oms = sandbox.api("oms")
    oms.inject("status", times=1000, status=500, method="POST", path="/api/v1/orders$")
    run(channel.fulfillment, "orders.submit")
    order = Order.objects.filter(channel=channel).order_by("placed_at").first()
    assert order.status == OrderStatus.DOWNLOADED and order.submit_attempts == 1
    assert order.next_attempt_at - timezone.now() > timedelta(minutes=4)
    assert run(channel.fulfillment, "orders.submit").seen == 0  # not due yet

    three_days_ago = timezone.now() - timedelta(days=3, minutes=1)
    Order.objects.filter(channel=channel).update(first_failure_at=three_days_ago, next_attempt_at=None)
    run(channel.fulfillment, "orders.submit")
    order.refresh_from_db()
    assert order.status == OrderStatus.FAILED and order.next_attempt_at is None
    assert "gave up" in open_issues(channel.fulfillment, "orders.submit")[f"{channel.slug}/{order.external_id}"]
    assert run(channel.fulfillment, "orders.submit").seen == 0  # a person decides now
    oms.clear_faults()


def test_the_fulfillment_system_submits_for_every_sales_channel_it_serves(downloaded, run):
    channels = [downloaded("extensiv"), downloaded("nuorder")]
    result = run(channels[0].fulfillment, "orders.submit")
    assert result.status == "ok" and result.created == Order.objects.count()
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.SUBMITTED}


def test_a_disabled_sales_channel_is_left_alone(downloaded, run):
    channel = downloaded("extensiv")
    channel.enabled = False
    channel.save()
    assert run(channel.fulfillment, "orders.submit").seen == 0


def test_no_credential_reaches_the_logs_at_debug_level(sales, run, caplog):
    caplog.set_level(logging.DEBUG)
    channel = sales("extensiv")
    run(channel, "orders.download")
    run(channel.fulfillment, "orders.submit")
    secrets = [v for c in (channel, channel.fulfillment) for v in c.credentials.values() if len(str(v)) > 6]
    assert secrets and "POST" in caplog.text  # the transport did log its calls
    assert not [s for s in secrets if str(s) in caplog.text]
