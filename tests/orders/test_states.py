import itertools

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from orders.models import EventKind, Order, OrderEvent, OrderStatus
from orders.states import TRANSITIONS, IllegalTransition, can_transition, order_transition, orders_transition
from tests.orders.factories import OrderFactory, OrderLineFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_every_status_has_a_row_in_the_transition_table():
    assert set(TRANSITIONS) == set(OrderStatus.values)
    assert all(targets <= set(OrderStatus.values) for targets in TRANSITIONS.values())


def test_the_documented_path_is_allowed_step_by_step():
    path = ["downloaded", "submitted", "acknowledged", "batched", "partially_shipped", "shipped"]
    assert all(can_transition(a, b) for a, b in itertools.pairwise(path))
    assert can_transition("downloaded", "held") and can_transition("held", "downloaded")
    assert can_transition("acknowledged", "deleted") and can_transition("deleted", "resubmitted")


def test_locked_and_finished_orders_cannot_be_deleted_or_cancelled():
    for status in ("batched", "partially_shipped", "shipped"):
        assert not can_transition(status, "deleted")
        assert not can_transition(status, "cancelled")
    assert TRANSITIONS["shipped"] == TRANSITIONS["cancelled"] == frozenset()


def test_transition_changes_status_and_fields_and_writes_an_event_with_the_user():
    order = OrderFactory()
    user = UserFactory()
    order_transition(
        order=order, to=OrderStatus.SUBMITTED, message="sent", user=user, fields={"fulfillment_number": "SO-1"}
    )
    order.refresh_from_db()
    assert (order.status, order.fulfillment_number) == ("submitted", "SO-1")
    event = OrderEvent.objects.get(order=order)
    assert (event.kind, event.from_status, event.to_status, event.user, event.message) == (
        EventKind.STATUS,
        "downloaded",
        "submitted",
        user,
        "sent",
    )


def test_illegal_transition_raises_and_changes_nothing():
    order = OrderFactory(status=OrderStatus.SHIPPED)
    with pytest.raises(IllegalTransition, match="shipped to deleted"):
        order_transition(order=order, to=OrderStatus.DELETED, message="no")
    order.refresh_from_db()
    assert order.status == "shipped"
    assert not OrderEvent.objects.exists()


def test_transition_refuses_an_order_another_writer_moved_meanwhile():
    order = OrderFactory()
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.CANCELLED)
    with pytest.raises(IllegalTransition, match="left downloaded"):
        order_transition(order=order, to=OrderStatus.SUBMITTED, message="late")
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert not OrderEvent.objects.exists()


def test_bulk_transition_moves_every_order_and_writes_one_event_each():
    orders = OrderFactory.create_batch(3, held=True)
    moved = orders_transition(orders=orders, to=OrderStatus.DOWNLOADED, message={orders[0].pk: "first"})
    assert moved == 3
    assert set(Order.objects.values_list("status", "hold_reason")) == {("downloaded", "")}
    assert OrderEvent.objects.filter(from_status="held", to_status="downloaded").count() == 3
    assert OrderEvent.objects.get(order=orders[0]).message == "first"


def test_bulk_transition_is_all_or_nothing_when_one_order_may_not_move():
    ok, shipped = OrderFactory(), OrderFactory(status=OrderStatus.SHIPPED)
    with pytest.raises(IllegalTransition):
        orders_transition(orders=[ok, shipped], to=OrderStatus.CANCELLED, message="x")
    assert Order.objects.get(pk=ok.pk).status == "downloaded"


def test_database_refuses_a_held_order_without_a_reason():
    order = OrderFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(status=OrderStatus.HELD)


def test_database_refuses_shipping_more_than_ordered():
    line = OrderLineFactory(quantity=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        type(line).objects.filter(pk=line.pk).update(quantity_shipped=F("quantity_shipped") + 3)
