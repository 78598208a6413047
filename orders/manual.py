"""What a person does to orders from the admin: delete from the fulfillment system, and resubmit.

The fulfillment system takes no order updates: a changed order is deleted there and submitted again, which
is only possible until the warehouse batches (locks) it. Every order is handled on its own — its own
transaction, its own outcome — so one failure never undoes or blocks the others; every step is recorded
as an OrderEvent with the user.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from integrations.connectors import connector_for
from integrations.connectors.base import Connector
from integrations.connectors.capabilities import FulfillmentTarget, OrderSource, capability
from integrations.connectors.records import OrderRecord
from integrations.http import ChannelError, Conflict
from integrations.models import Channel
from orders.cancellation import CANCELLED_HERE, order_locked
from orders.holds import order_hold_reasons, orders_hold_check
from orders.ingest import order_refresh
from orders.models import Order, OrderStatus
from orders.out_of_warehouse import out_of_warehouse_report, out_of_warehouse_resolve
from orders.states import IN_FULFILLMENT, order_transition
from orders.submission import order_submit

S = OrderStatus
REFUSALS: dict[str, str] = {
    S.BATCHED: "Locked: the warehouse has it in a pick batch, so it can no longer be deleted.",
    S.PARTIALLY_SHIPPED: "Partially shipped: locked in the fulfillment system.",
    S.SHIPPED: "Already shipped.",
    S.CANCELLED: "Cancelled.",
}


@dataclass(frozen=True)
class Plan:
    order: Order
    allowed: bool
    text: str


@dataclass(frozen=True)
class Outcome:
    order: Order
    ok: bool
    text: str


def delete_plan(order: Order) -> Plan:
    """What "Delete from fulfillment" will do to this order, or why it is refused."""
    if order.status in REFUSALS:
        return Plan(order, False, REFUSALS[order.status])
    if order.status == S.DELETED:
        return Plan(order, False, "Already deleted from the fulfillment system.")
    if order.status not in IN_FULFILLMENT:
        return Plan(order, False, "Not submitted: there is nothing to delete.")
    where = order.channel.fulfillment or "the fulfillment system"
    return Plan(order, True, f"Delete {order.fulfillment_number} from {where}; the order stays here as deleted.")


def resubmit_plan(order: Order) -> Plan:
    """What "Resubmit" will do to this order, or why it is refused."""
    if order.status in REFUSALS:
        return Plan(order, False, REFUSALS[order.status])
    if order.channel.fulfillment_id is None:
        return Plan(order, False, "The channel has no fulfillment system.")
    if order.status in (S.DOWNLOADED, S.HELD):
        return Plan(order, False, "Not submitted yet: the schedule submits it (a held order once the hold is fixed).")
    fresh = f"fetch it fresh from {order.channel}, map it and split bundles again, and submit it"
    if order.status in IN_FULFILLMENT:
        return Plan(
            order,
            True,
            f"Fetch it fresh from {order.channel} and check it can be submitted; only then delete "
            f"{order.fulfillment_number} from {order.channel.fulfillment}, map it and split bundles again, and "
            "submit it as a new order.",
        )
    if order.status == S.DELETED:
        return Plan(order, True, f"{fresh[0].upper()}{fresh[1:]} as a new order.")
    return Plan(order, True, f"{fresh[0].upper()}{fresh[1:]} again (last error: {order.last_error or 'none'}).")


def orders_delete_from_fulfillment(*, orders: Iterable[Order], user: Any) -> list[Outcome]:
    """Delete each order from its fulfillment system, one at a time; the outcome of each."""
    with _Connectors() as connectors:
        return [
            order_delete_from_fulfillment(order=o, connector=connectors.fulfillment(o.channel), user=user)
            for o in orders
        ]


def orders_resubmit(*, orders: Iterable[Order], user: Any) -> list[Outcome]:
    """Resubmit each order (deleting it first where it is still open), one at a time; the outcome of each."""
    with _Connectors() as connectors:
        return [
            order_resubmit(
                order=o, sales=connectors.sales(o.channel), fulfillment=connectors.fulfillment(o.channel), user=user
            )
            for o in orders
        ]


def order_delete_from_fulfillment(*, order: Order, connector: FulfillmentTarget | None, user: Any) -> Outcome:
    """Check the order is not locked, delete it from the fulfillment system, and record it as deleted."""
    plan = delete_plan(order)
    if not plan.allowed or connector is None:
        return Outcome(order, False, plan.text if not plan.allowed else "The channel has no fulfillment system.")
    number = order.fulfillment_number
    try:
        status = connector.order_status(number)
        if status.locked:
            order_locked(order=order, status=status, user=user)
            return Outcome(order, False, f"Refused: {number} is {status.status} (locked) in the fulfillment system.")
        if status.status != "cancelled":
            connector.order_delete(number)
    except Conflict as exc:
        return Outcome(order, False, f"Refused by the fulfillment system: {exc.reason}")
    except ChannelError as exc:
        return Outcome(order, False, f"Failed: {exc}")
    order_transition(
        order=order,
        to=S.DELETED,
        user=user,
        message=f"Deleted {number} from the fulfillment system.",
        # The next submission needs a new key: the deleted order keeps the old one there.
        fields={"idempotency_key": "", "resubmissions": order.resubmissions + 1, "submit_attempts": 0},
    )
    return Outcome(order, True, f"Deleted {number} from the fulfillment system.")


def order_resubmit(*, order: Order, sales: OrderSource, fulfillment: FulfillmentTarget | None, user: Any) -> Outcome:
    """Fetch the order fresh from the channel and check it can be submitted, then delete it (if still open),
    re-map and re-split it, and submit it. Nothing is deleted until the new submission can follow; an order
    that still ends up out of the warehouse is said so on the order and in the issue queue."""
    plan = resubmit_plan(order)
    if not plan.allowed or fulfillment is None:
        return Outcome(order, False, plan.text if not plan.allowed else "The channel has no fulfillment system.")
    kept = f" {order.fulfillment_number} stays in the fulfillment system." if order.status in IN_FULFILLMENT else ""
    try:
        record = sales.order_get(order.external_id)
    except ChannelError as exc:
        return Outcome(
            order, False, f"Not resubmitted: fetching it from {order.channel} failed ({exc}).{kept} Try again."
        )
    if record.cancelled:
        return _cancel(order, fulfillment, user)
    refusal = _submission_refusal(order, record)
    if refusal:
        return Outcome(order, False, f"Not resubmitted: {refusal}{kept}")
    if order.status in IN_FULFILLMENT:
        deleted = order_delete_from_fulfillment(order=order, connector=fulfillment, user=user)
        if not deleted.ok:
            return deleted
    outcome = _refresh_and_submit(order, record, fulfillment, user)
    if outcome.ok:
        out_of_warehouse_resolve(order=order)
    else:
        out_of_warehouse_report(order=order, reason=outcome.text)
    return outcome


def _cancel(order: Order, fulfillment: FulfillmentTarget, user: Any) -> Outcome:
    if order.status in IN_FULFILLMENT:
        deleted = order_delete_from_fulfillment(order=order, connector=fulfillment, user=user)
        if not deleted.ok:
            return deleted
    order_transition(order=order, to=S.CANCELLED, user=user, message=f"{CANCELLED_HERE} Not resubmitted.")
    out_of_warehouse_resolve(order=order)
    return Outcome(order, False, "Not resubmitted: it is cancelled on the channel.")


def _submission_refusal(order: Order, record: OrderRecord) -> str:
    """Why the fresh copy could not be submitted (unusable, or it would be held), tried in a transaction that
    is rolled back, so the order is unchanged; empty when it can."""
    with transaction.atomic():
        try:
            order_refresh(order=order, record=record)
            holds = order_hold_reasons(order=Order.objects.get(pk=order.pk))
            refusal = f"it would be held: {' '.join(hold.detail for hold in holds)}" if holds else ""
        except ValueError as exc:
            refusal = f"{exc}."
        transaction.set_rollback(True)
    return refusal


def _refresh_and_submit(order: Order, record: OrderRecord, fulfillment: FulfillmentTarget, user: Any) -> Outcome:
    try:
        order_refresh(order=order, record=record, user=user)
    except ValueError as exc:
        return Outcome(order, False, f"Not resubmitted: {exc}.")
    order.refresh_from_db()
    orders_hold_check(channel=order.channel, orders=[order])
    if order.status == S.HELD:
        return Outcome(order, False, f"Held, not resubmitted: {order.hold_detail}")
    outcome = order_submit(order=order, connector=fulfillment, user=user)
    return Outcome(order, outcome.ok, outcome.message[0].upper() + outcome.message[1:] + ".")


class _Connectors:
    """One connector per channel for a whole action, closed at the end."""

    def __init__(self) -> None:
        self.cache: dict[int, Connector] = {}

    def __enter__(self) -> "_Connectors":
        return self

    def __exit__(self, *exc: object) -> None:
        for connector in self.cache.values():
            connector.close()

    def sales(self, channel: Channel) -> OrderSource:
        return capability(self._get(channel), OrderSource)

    def fulfillment(self, channel: Channel) -> FulfillmentTarget | None:
        fulfillment = channel.fulfillment if channel.fulfillment_id else None  # no query when there is none
        return None if fulfillment is None else capability(self._get(fulfillment), FulfillmentTarget)

    def _get(self, channel: Channel) -> Connector:
        if channel.pk not in self.cache:
            self.cache[channel.pk] = connector_for(channel)
        return self.cache[channel.pk]
