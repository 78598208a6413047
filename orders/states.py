"""The order state machine, in one place: the allowed moves, and the only functions that change a status.

    downloaded ─┬─> held ──(released)──> downloaded
                ├─> submitted ─> acknowledged ─> batched (locked) ─> partially_shipped ─> shipped
                └─> failed (retries used up; a person resubmits)
    submitted / acknowledged / resubmitted ─> deleted (by a person) ─> resubmitted ─> acknowledged ...
    anything not yet locked ─> cancelled

Every change writes an OrderEvent in the same transaction; a status is updated with a conditional
UPDATE (`WHERE status = <the status we read>`), so two writers cannot both move the same order.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from orders.models import EventKind, Order, OrderEvent
from orders.models import OrderStatus as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.DOWNLOADED: frozenset({S.HELD, S.SUBMITTED, S.FAILED, S.CANCELLED}),
    S.HELD: frozenset({S.DOWNLOADED, S.SUBMITTED, S.CANCELLED}),
    S.FAILED: frozenset({S.DOWNLOADED, S.HELD, S.SUBMITTED, S.CANCELLED}),
    S.SUBMITTED: frozenset({S.ACKNOWLEDGED, S.BATCHED, S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCELLED, S.DELETED}),
    S.ACKNOWLEDGED: frozenset({S.BATCHED, S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCELLED, S.DELETED}),
    S.BATCHED: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED}),
    S.PARTIALLY_SHIPPED: frozenset({S.SHIPPED}),
    S.SHIPPED: frozenset(),
    S.CANCELLED: frozenset(),
    S.DELETED: frozenset({S.RESUBMITTED, S.HELD, S.CANCELLED}),
    S.RESUBMITTED: frozenset({S.ACKNOWLEDGED, S.BATCHED, S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCELLED, S.DELETED}),
}

# Groups the flows and screens ask about.
NOT_SUBMITTED = frozenset({S.DOWNLOADED, S.HELD, S.FAILED})
IN_FULFILLMENT = frozenset({S.SUBMITTED, S.ACKNOWLEDGED, S.RESUBMITTED})  # open there: may be deleted
LOCKED = frozenset({S.BATCHED, S.PARTIALLY_SHIPPED, S.SHIPPED})


class IllegalTransition(Exception):
    """A status change the table does not allow, or an order that changed under us."""


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


def order_transition(
    *,
    order: Order,
    to: str,
    message: str,
    user: Any = None,
    fields: Mapping[str, Any] | None = None,
) -> Order:
    """Move one order to `to`, setting `fields` in the same UPDATE, and record the event; raise if not allowed."""
    orders_transition(orders=[order], to=to, message=message, user=user, fields=fields)
    return order


def orders_transition(
    *,
    orders: Iterable[Order],
    to: str,
    message: str | Mapping[int, str],
    user: Any = None,
    fields: Mapping[str, Any] | None = None,
) -> int:
    """Move many orders to `to` with one UPDATE per current status and one bulk insert of events.

    `message` is one text for all, or a text per order id. Raises IllegalTransition (and changes nothing)
    if any order may not move, or if any was changed by someone else since it was read.
    """
    orders = list(orders)
    if not orders:
        return 0
    illegal = [o for o in orders if not can_transition(o.status, to)]
    if illegal:
        first = illegal[0]
        raise IllegalTransition(f"order {first} cannot go from {first.status} to {to}")
    now = timezone.now()
    changes = {**(fields or {}), "status": to, "updated_at": now}
    if to != S.HELD:
        changes.setdefault("hold_reason", "")
        changes.setdefault("hold_detail", "")
    with transaction.atomic():
        for from_status, group in _by_status(orders).items():
            ids = [o.pk for o in group]
            moved = Order.objects.filter(pk__in=ids, status=from_status).update(**changes)
            if moved != len(ids):
                raise IllegalTransition(f"{len(ids) - moved} order(s) left {from_status} while being moved to {to}")
        OrderEvent.objects.bulk_create(
            OrderEvent(
                order_id=o.pk,
                kind=EventKind.STATUS,
                from_status=o.status,
                to_status=to,
                message=message if isinstance(message, str) else message.get(o.pk, ""),
                user=user,
                created_at=now,
            )
            for o in orders
        )
    for o in orders:
        for name, value in changes.items():
            setattr(o, name, value)
    return len(orders)


def order_event(*, order: Order, kind: str, message: str, user: Any = None) -> OrderEvent:
    """Record something that happened to an order without a status change."""
    return OrderEvent.objects.create(order=order, kind=kind, message=message, user=user)


def _by_status(orders: list[Order]) -> dict[str, list[Order]]:
    groups: dict[str, list[Order]] = {}
    for order in orders:
        groups.setdefault(order.status, []).append(order)
    return groups
