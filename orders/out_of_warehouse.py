"""An order a person took out of the fulfillment system that did not go back in: the one state in which a
paid order is fulfilled by nobody, so it is said on the order page and kept in the issue queue until the
order is resubmitted or cancelled."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from integrations.models import SyncIssue
from orders.models import Order, OrderStatus
from orders.submission import submit_issue_key

FLOW = "orders.submit"  # the queue of the fulfillment system's submissions, where a person looks for them


def out_of_warehouse_report(*, order: Order, reason: str) -> None:
    """Open (or refresh) the issue saying this deleted order is in no warehouse, with why it did not go back."""
    if order.status != OrderStatus.DELETED:
        return
    message = (
        f"Order {order.number} is out of the warehouse: it was deleted from {order.channel.fulfillment} and not "
        f"resubmitted. {reason} Resubmit it from the order page once the cause is fixed."
    )
    issues = SyncIssue.objects.filter(
        channel_id=order.channel.fulfillment_id,
        flow=FLOW,
        record_key=submit_issue_key(order),
        status=SyncIssue.Status.OPEN,
    )
    if issues.update(message=message, occurrences=F("occurrences") + 1, updated_at=timezone.now()):
        return
    try:
        with transaction.atomic():
            SyncIssue.objects.create(
                channel_id=order.channel.fulfillment_id, flow=FLOW, record_key=submit_issue_key(order), message=message
            )
    except IntegrityError:  # opened by someone else meanwhile: theirs says the same
        pass


def out_of_warehouse_resolve(*, order: Order) -> None:
    """Close the order's out-of-the-warehouse issue: it went back in, or it is cancelled."""
    now = timezone.now()
    SyncIssue.objects.filter(
        channel_id=order.channel.fulfillment_id,
        flow=FLOW,
        record_key=submit_issue_key(order),
        status=SyncIssue.Status.OPEN,
    ).update(status=SyncIssue.Status.RESOLVED, resolved_at=now, updated_at=now)
