"""Orders cancelled on the channel: cancelled here if never submitted; deleted from the fulfillment system
while it still can (not locked); kept, flagged and put in the issue queue for a person when it cannot."""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from integrations.chunks import rows_in_chunks
from integrations.connectors.capabilities import FulfillmentTarget
from integrations.connectors.records import FulfillmentStatus
from integrations.flows import RunReport
from integrations.http import ChannelError, Conflict, NotFound
from integrations.models import Channel
from orders.models import EventKind, Order, OrderEvent, OrderStatus
from orders.states import IN_FULFILLMENT, LOCKED, NOT_SUBMITTED, can_transition, order_transition, orders_transition

CHUNK = 500
CANCELLED_HERE = "Cancelled on the channel."
# The fulfillment system's status → ours, for an order it reports locked.
LOCKED_STATUS = {
    "batched": OrderStatus.BATCHED,
    "partially_shipped": OrderStatus.PARTIALLY_SHIPPED,
    "shipped": OrderStatus.SHIPPED,
}


def cancellations_mark(*, channel: Channel, external_ids: Iterable[str], report: RunReport) -> None:
    """Record cancellations the channel reported: never-submitted orders are cancelled at once, the rest
    are marked for deletion from the fulfillment system (cancellations_process), locked ones are kept."""
    ids = sorted(set(external_ids))
    for start in range(0, len(ids), CHUNK):
        with transaction.atomic():
            orders = list(
                Order.objects.select_for_update()
                .filter(channel=channel, external_id__in=ids[start : start + CHUNK])
                .exclude(status=OrderStatus.CANCELLED)
                .only("id", "external_id", "number", "status", "cancel_requested", "submitting_at")
            )
            local = [o for o in orders if cancels_here(status=o.status, submitting_at=o.submitting_at)]
            orders_transition(orders=local, to=OrderStatus.CANCELLED, message=CANCELLED_HERE)
            remote = [o for o in orders if o not in local and not o.cancel_requested]
            Order.objects.filter(pk__in=[o.pk for o in remote]).update(cancel_requested=True, updated_at=timezone.now())
            locked = [order for order in orders if order.status in LOCKED]
            for order in locked:
                cancel_kept(order=order, report=report, first_time=not order.cancel_requested)
        # Counted here: those cancelled here (updated) and those kept (failed, in the issue queue). The rest are
        # counted by cancellations_process, which deletes them from the fulfillment system in the same run.
        report.seen += len(local) + len(locked)
        report.updated += len(local)


def cancels_here(*, status: str, submitting_at: datetime | None) -> bool:
    """A cancellation the hub settles alone: the order never reached the fulfillment system and no submission
    is in flight (one in flight, or dead mid-send, is settled by the submission: orders.submission)."""
    return (status in NOT_SUBMITTED or status == OrderStatus.DELETED) and submitting_at is None


def cancellations_process(*, channel: Channel, connector: FulfillmentTarget, report: RunReport) -> None:
    """Delete from the fulfillment system every order of the channel cancelled there and still open."""
    pending = Order.objects.filter(channel=channel, cancel_requested=True, status__in=IN_FULFILLMENT).order_by("id")
    for order in rows_in_chunks(pending):
        report.seen += 1
        order_cancel_in_fulfillment(order=order, connector=connector, report=report)


def order_cancel_in_fulfillment(*, order: Order, connector: FulfillmentTarget, report: RunReport) -> bool:
    """Check the order is not locked, delete it, and cancel it here; True when it is cancelled."""
    number = order.fulfillment_number
    try:
        status = connector.order_status(number)
        if status.status == "cancelled":  # an earlier delete whose answer was lost, or a person's
            report.updated += 1
            report.succeeded(order.external_id)
            return _cancelled(order, f"Cancelled on the channel; {number} was already cancelled in fulfillment.")
        if status.locked:
            order_locked(order=order, status=status)
            cancel_kept(order=order, report=report, first_time=True)
            return False
        connector.order_delete(number)
    except Conflict as exc:
        cancel_kept(order=order, report=report, first_time=True, why=exc.reason)
        return False
    except NotFound:
        report.issue(
            order.external_id,
            f"order {order.number}: cancelled on the channel, but {number} is unknown "
            "to the fulfillment system. A person must check it.",
        )
        return False
    except ChannelError as exc:
        report.issue(
            order.external_id,
            f"order {order.number}: cancelled on the channel; deleting {number} failed and will be retried: {exc}",
        )
        return False
    report.updated += 1
    report.succeeded(order.external_id)
    return _cancelled(order, f"Cancelled on the channel; deleted {number} from the fulfillment system.")


def order_locked(*, order: Order, status: FulfillmentStatus, user=None) -> None:
    """The fulfillment system says the order is locked: move it to the matching status if it is behind."""
    to = LOCKED_STATUS.get(status.status, OrderStatus.BATCHED)
    if order.status != to and can_transition(order.status, to):
        order_transition(
            order=order, to=to, user=user, message=f"The fulfillment system reports {status.number} {status.status}."
        )


def cancel_kept(*, order: Order, report: RunReport, first_time: bool, why: str = "") -> None:
    """Cancelled on the channel but locked in the fulfillment system: flag it, say so once, queue it for a person."""
    why = why or f"it is {order.get_status_display().lower()} in the fulfillment system"
    message = f"Cancelled on the channel, but {why}: kept. A person must stop it in the warehouse."
    if first_time:
        Order.objects.filter(pk=order.pk).update(cancel_requested=True, updated_at=timezone.now())
        OrderEvent.objects.create(order_id=order.pk, kind=EventKind.CANCEL, message=message)
    report.issue(order.external_id, f"order {order.number}: {message}")


def _cancelled(order: Order, message: str) -> bool:
    order_transition(order=order, to=OrderStatus.CANCELLED, message=message, fields={"cancel_requested": False})
    return True
