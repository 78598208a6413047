"""Submitting orders to the fulfillment system.

A submission is recorded (idempotency key, attempt count) and committed before the request is sent. The
fulfillment contract de-duplicates by that key, so a request whose answer was lost is simply sent again
with the same key: the order is never created twice. Failures are retried with backoff for the channel's
retry period, then the order waits as `failed` for a person.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from integrations.connectors.capabilities import FulfillmentTarget
from integrations.connectors.records import CustomerRef, FulfillmentLine, FulfillmentOrder, FulfillmentStatus
from integrations.cursors import holder_alive, lease_holder
from integrations.flows import RunReport
from integrations.http import ChannelError, TransportError
from integrations.models import Channel
from orders.cancellation import CANCELLED_HERE
from orders.models import Order, OrderLine, OrderRules, OrderStatus
from orders.records import address_from
from orders.states import order_transition

FIRST_RETRY = timedelta(minutes=5)
MAX_RETRY_WAIT = timedelta(hours=6)
DEFAULT_RETRY_DAYS = 3
CHUNK = 200
SUBMIT_FROM = (OrderStatus.DOWNLOADED, OrderStatus.FAILED, OrderStatus.DELETED)


# A claim older than this is a worker that died mid-send; the next submission may take the order over (its
# idempotency key makes a second send harmless). Well above a submission's HTTP timeouts and retries. A claim
# whose process is known dead (one of this machine that is gone) is taken over at once.
CLAIM_STALE = timedelta(minutes=15)


@dataclass(frozen=True)
class SubmitOutcome:
    ok: bool
    message: str
    skipped: bool = False  # not sent, and nothing wrong: cancelled meanwhile, or another worker has it


def submission_key(order: Order) -> str:
    """The idempotency key of the order's current submission; a resubmission after a delete gets a new one."""
    return f"{order.channel.slug}:{order.external_id}:{order.resubmissions}"


def submit_issue_key(order: Order) -> str:
    """Submission issues live on the fulfillment channel, which serves several sales channels."""
    return f"{order.channel.slug}/{order.external_id}"


def orders_ready(*, channel: Channel, now: datetime | None = None) -> QuerySet[Order]:
    """Downloaded orders whose next attempt is due, oldest first."""
    now = now or timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    ready = Q(status=OrderStatus.DOWNLOADED) & due
    # Cancelled on the channel while a submission was in flight: settled by the next run, whatever the backoff.
    to_settle = Q(status__in=SUBMIT_FROM, cancel_requested=True)
    return Order.objects.filter(ready | to_settle, channel=channel).order_by("placed_at", "id")


def orders_submit(*, channel: Channel, connector: FulfillmentTarget, report: RunReport, dry_run: bool = False) -> None:
    """Submit every ready order of a sales channel; one failure never stops the others."""
    ids = list(orders_ready(channel=channel).values_list("id", flat=True))
    retry_days = _retry_days(channel)
    for start in range(0, len(ids), CHUNK):
        chunk = Order.objects.filter(pk__in=ids[start : start + CHUNK]).select_related("channel", "customer")
        lines = _lines_by_order(ids[start : start + CHUNK])
        for order in chunk.order_by("placed_at", "id"):
            report.seen += 1
            if dry_run:
                report.say(f"would submit {order.number} with {len(lines.get(order.pk, []))} line(s)")
                continue
            outcome = order_submit(order=order, connector=connector, lines=lines.get(order.pk), retry_days=retry_days)
            if outcome.skipped:
                report.skipped += 1
                report.say(f"{order.number}: {outcome.message}")
            elif outcome.ok:
                report.created += 1
                report.succeeded(submit_issue_key(order))
            else:
                report.issue(
                    submit_issue_key(order), f"order {order.number}: {outcome.message}", fulfillment_payload(order)
                )


def order_submit(
    *,
    order: Order,
    connector: FulfillmentTarget,
    lines: list[OrderLine] | None = None,
    user: Any = None,
    retry_days: int | None = None,
) -> SubmitOutcome:
    """Send one order (downloaded, failed, or deleted and being resubmitted) to the fulfillment system."""
    if order.status not in SUBMIT_FROM:
        return SubmitOutcome(False, f"cannot be submitted while {order.get_status_display().lower()}")
    if not submission_claim(order=order):
        return SubmitOutcome(False, "not sent: it changed meanwhile, or another worker is submitting it", skipped=True)
    try:
        if order.cancel_requested:
            return _settle_cancelled(order, connector, user)
        submission_record(order=order)
        payload = fulfillment_order(order, lines)
        try:
            status = _send(order, payload, connector)
        except ChannelError as exc:
            days = _retry_days(order.channel) if retry_days is None else retry_days
            return _failed(order, exc, user=user, retry_days=days)
        _submitted(order, status, user=user)
        return SubmitOutcome(True, f"submitted as {status.number}")
    finally:
        Order.objects.filter(pk=order.pk, submitting_at=order.submitting_at).update(
            submitting_at=None, submitting_by=""
        )


def submission_claim(*, order: Order) -> bool:
    """Claim the order for one submission, committed before anything is sent, and read whether it was cancelled
    on the channel meanwhile. False when it left its status or another live submission holds it."""
    now, me = timezone.now(), lease_holder()
    free = Q(submitting_at__isnull=True) | Q(submitting_at__lt=now - CLAIM_STALE)
    if not Order.objects.filter(free, pk=order.pk, status=order.status).update(submitting_at=now, submitting_by=me):
        held = Order.objects.filter(pk=order.pk, status=order.status).values_list("submitting_at", "submitting_by")
        claim = held.first()
        if claim is None or holder_alive(claim[1]):
            return False
        # The process that claimed it died mid-send: take the claim over (the same key makes a resend harmless).
        taken = Order.objects.filter(pk=order.pk, status=order.status, submitting_at=claim[0], submitting_by=claim[1])
        if not taken.update(submitting_at=now, submitting_by=me):
            return False
    order.submitting_at = now
    order.cancel_requested = Order.objects.filter(pk=order.pk).values_list("cancel_requested", flat=True).get()
    return True


def _settle_cancelled(order: Order, connector: FulfillmentTarget, user: Any) -> SubmitOutcome:
    """Cancelled on the channel while a submission was in flight or due. An earlier attempt may have landed: it
    is looked up by its key and, found, recorded as submitted so the cancellation deletes it there; an order
    that never reached the fulfillment system is cancelled here."""
    if order.submit_attempts and order.idempotency_key:
        try:
            found = connector.order_find(order.idempotency_key)
        except ChannelError as exc:
            return SubmitOutcome(False, f"cancelled on the channel; whether an attempt arrived is unknown ({exc})")
        if found is not None:
            _submitted(order, found, user=user)
            return SubmitOutcome(
                False, f"cancelled on the channel after {found.number} arrived: the cancellation deletes it", True
            )
    order_transition(
        order=order,
        to=OrderStatus.CANCELLED,
        user=user,
        message=f"{CANCELLED_HERE} It never reached the fulfillment system.",
        fields={"cancel_requested": False},
    )
    return SubmitOutcome(False, "cancelled on the channel before it reached the fulfillment system", skipped=True)


def submission_record(*, order: Order) -> None:
    """Store the key and count the attempt, committed before anything is sent."""
    if not order.idempotency_key:
        order.idempotency_key = submission_key(order)
    Order.objects.filter(pk=order.pk).update(
        idempotency_key=order.idempotency_key, submit_attempts=F("submit_attempts") + 1, updated_at=timezone.now()
    )
    order.submit_attempts += 1


def _send(order: Order, payload: FulfillmentOrder, connector: FulfillmentTarget) -> FulfillmentStatus:
    # The channel changed the order after a submission went out (its answer lost): if that submission
    # landed, the key belongs to the old content and re-sending it is refused, so ask first.
    if order.changed_after_submit:
        found = connector.order_find(order.idempotency_key)
        if found is not None:
            return found
        Order.objects.filter(pk=order.pk).update(changed_after_submit=False)
        order.changed_after_submit = False
    return connector.order_submit(payload)


def _submitted(order: Order, status: FulfillmentStatus, *, user: Any) -> None:
    to = OrderStatus.RESUBMITTED if order.status == OrderStatus.DELETED else OrderStatus.SUBMITTED
    order_transition(
        order=order,
        to=to,
        user=user,
        message=f"{to.label} to the fulfillment system as {status.number} (key {order.idempotency_key}).",
        fields={
            "fulfillment_number": status.number,
            "submitted_at": timezone.now(),
            "acknowledged_at": None,
            "next_attempt_at": None,
            "first_failure_at": None,
            "last_error": "",
        },
    )


def _failed(order: Order, exc: ChannelError, *, user: Any, retry_days: int) -> SubmitOutcome:
    now = timezone.now()
    first = order.first_failure_at or now
    unknown = isinstance(exc, TransportError) and exc.outcome_unknown
    reason = f"{'no answer (it may have arrived)' if unknown else 'refused'}: {exc}"
    fields = {"first_failure_at": first, "last_error": reason[:1000], "updated_at": now}
    if order.status == OrderStatus.DOWNLOADED and now - first >= timedelta(days=retry_days):
        order_transition(
            order=order,
            to=OrderStatus.FAILED,
            user=user,
            message=f"Submission failed for {retry_days} day(s); waiting for a person. Last error: {reason}",
            fields={**fields, "next_attempt_at": None},
        )
        return SubmitOutcome(False, f"gave up after {order.submit_attempts} attempt(s): {reason}")
    wait = min(FIRST_RETRY * 2 ** max(order.submit_attempts - 1, 0), MAX_RETRY_WAIT)
    fields["next_attempt_at"] = now + wait if order.status == OrderStatus.DOWNLOADED else None
    Order.objects.filter(pk=order.pk).update(**fields)
    for name, value in fields.items():
        setattr(order, name, value)
    retry = f"; next attempt at {fields['next_attempt_at']:%Y-%m-%d %H:%M} UTC" if fields["next_attempt_at"] else ""
    return SubmitOutcome(False, f"submission attempt {order.submit_attempts} failed, {reason}{retry}")


def fulfillment_order(order: Order, lines: list[OrderLine] | None = None) -> FulfillmentOrder:
    """The order as the fulfillment system takes it: bundle lines replaced by their components."""
    if lines is None:
        lines = list(_lines_by_order([order.pk]).get(order.pk, []))
    customer = order.customer
    return FulfillmentOrder(
        idempotency_key=order.idempotency_key,
        reference=order.number,
        channel=order.channel.slug,
        ship_to=address_from(order.ship_to),
        bill_to=address_from(order.bill_to),
        shipping_method=order.shipping_method,
        lines=tuple(
            FulfillmentLine(
                line_ref=line.external_id,
                sku=line.item.sku,  # type: ignore[union-attr]  # only orders with every line mapped are submitted
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
            for line in lines
            if not line.is_bundle and line.item_id and line.quantity > 0
        ),
        customer=CustomerRef(customer.external_id, customer.name, customer.email, customer.code) if customer else None,
        currency=order.currency,
        attributes=dict(order.attributes),
    )


def fulfillment_payload(order: Order) -> dict[str, Any]:
    return {"order": order.external_id, "number": order.number, "key": order.idempotency_key}


def _lines_by_order(order_ids: list[int]) -> dict[int, list[OrderLine]]:
    by_order: dict[int, list[OrderLine]] = {}
    for line in OrderLine.objects.filter(order_id__in=order_ids).select_related("item").order_by("position", "id"):
        by_order.setdefault(line.order_id, []).append(line)
    return by_order


def _retry_days(channel: Channel) -> int:
    rules = OrderRules.objects.filter(channel=channel).only("submit_retry_days").first()
    return rules.submit_retry_days if rules else DEFAULT_RETRY_DAYS
