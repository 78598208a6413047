"""Submitting orders to the fulfillment system.

A submission is recorded (idempotency key, attempt count) and committed before the request is sent. The
fulfillment contract de-duplicates by that key, so a request whose answer was lost is simply sent again
with the same key: the order is never created twice. Failures are retried with backoff for the channel's
retry period, then the order waits as `failed` for a person.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.utils import timezone
from django_q.tasks import async_task

from integrations.chunks import batched
from integrations.connectors.capabilities import FulfillmentTarget
from integrations.connectors.records import CustomerRef, FulfillmentLine, FulfillmentOrder, FulfillmentStatus
from integrations.cursors import holder_alive, lease_holder
from integrations.flows import RunReport
from integrations.http import ChannelError, TransportError
from integrations.models import Channel
from orders.cancellation import CANCELLED_HERE
from orders.models import Order, OrderLine, OrderRules, OrderStatus
from orders.records import address_from
from orders.states import IllegalTransition, order_transition, orders_transition

FIRST_RETRY = timedelta(minutes=5)
MAX_RETRY_WAIT = timedelta(hours=6)
DEFAULT_RETRY_DAYS = 3
CHUNK = 200
# Orders claimed, counted and recorded together. While a batch is out its orders are claimed: a cancellation
# arriving then is settled after the send (deleted there), as for one order in flight, so the batch stays small.
SEND_BATCH = 50
CHUNK_TASK = "orders.tasks.orders_submit_chunk"
QUEUED = "queued:"  # a fan-out's claim: `queued:<token>`, taken over by the chunk task given the token
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
    """Submit every ready order of a sales channel; one failure never stops the others. Above
    ORDERS_SUBMIT_FANOUT ready orders (when set) they are queued to chunk tasks instead, which any worker takes."""
    now = timezone.now()
    queued = Q(submitting_by__startswith=QUEUED, submitting_at__gte=now - CLAIM_STALE)  # a chunk task has them
    ids = list(orders_ready(channel=channel, now=now).exclude(queued).values_list("id", flat=True))
    if dry_run:
        for start in range(0, len(ids), CHUNK):
            lines = _lines_by_order(ids[start : start + CHUNK])
            for order in Order.objects.filter(pk__in=ids[start : start + CHUNK]).order_by("placed_at", "id"):
                report.seen += 1
                report.say(f"would submit {order.number} with {len(lines.get(order.pk, []))} line(s)")
        return
    if 0 < fanout_orders() < len(ids):
        _fan_out(channel, ids, report)
        return
    orders_submit_ids(channel=channel, connector=connector, order_ids=ids, report=report)


def fanout_orders() -> int:
    """Above this many ready orders of a sales channel, the submission is split into chunk tasks; 0: never."""
    return int(getattr(settings, "ORDERS_SUBMIT_FANOUT", 400))


def chunk_orders() -> int:
    """Orders per chunk task."""
    return int(getattr(settings, "ORDERS_SUBMIT_CHUNK", 200))


def _fan_out(channel: Channel, ids: list[int], report: RunReport) -> None:
    """Claim the orders for their chunk (a claim named `queued:<token>`, which only that chunk task takes over,
    so the next run does not queue them again and a cancellation leaves them to the chunk), then queue it. A
    chunk that never runs lets its claims go stale (CLAIM_STALE), and the next run takes them over."""
    now = timezone.now()
    free = Q(submitting_at__isnull=True) | Q(submitting_at__lt=now - CLAIM_STALE)
    tasks = queued = 0
    for number, chunk in enumerate(batched(ids, chunk_orders()), start=1):
        token = f"{QUEUED}{uuid.uuid4().hex}"
        claimed = orders_ready(channel=channel, now=now).filter(free, pk__in=chunk).order_by()
        if not claimed.update(submitting_at=now, submitting_by=token):
            continue
        mine = list(Order.objects.filter(pk__in=chunk, submitting_by=token).values_list("pk", flat=True))
        async_task(CHUNK_TASK, channel.pk, mine, token, task_name=f"orders submit {channel.pk}/{number}")
        tasks, queued = tasks + 1, queued + len(mine)
    said = f"{channel.name}: {queued} order(s) queued as {tasks} chunk task(s)"
    report.say(said)
    report.note(f"{said}: their outcomes are in the chunk runs")


def orders_submit_ids(
    *, channel: Channel, connector: FulfillmentTarget, order_ids: Sequence[int], report: RunReport, queued: str = ""
) -> None:
    """Submit the given orders of a sales channel (those still ready), a batch at a time: one claim, one read and
    one attempt count per batch, committed before the batch's first POST (one per order), then one write of the
    batch's outcomes. An order another submission holds, or that left the ready ones, is not sent. `queued`: the
    claim a fan-out gave these orders, which this submission takes over."""
    retry_days = _retry_days(channel)
    for batch in batched(order_ids, SEND_BATCH):
        claimed = submissions_claim(channel=channel, order_ids=batch, queued=queued)
        if missed := len(batch) - len(claimed):
            report.seen += missed
            report.skipped += missed
            report.say(f"{missed} order(s) not sent: they changed meanwhile, or another worker is submitting them")
        _batch_submit(claimed, connector, report, retry_days)


def _batch_submit(claimed: list[Order], connector: FulfillmentTarget, report: RunReport, retry_days: int) -> None:
    lines = _lines_by_order([order.pk for order in claimed])
    sent: list[tuple[Order, FulfillmentStatus]] = []
    try:
        for order in claimed:
            report.seen += 1
            if order.cancel_requested:
                outcome = _settle_cancelled(order, connector, None)
            else:
                try:
                    sent.append((order, _send(order, fulfillment_order(order, lines.get(order.pk, [])), connector)))
                    continue
                except ChannelError as exc:
                    outcome = _failed(order, exc, user=None, retry_days=retry_days)
            _count(order, outcome, report)
    finally:
        # Whatever stopped the batch, what was sent is recorded and every claim of the batch let go.
        try:
            _submitted_many(sent)
        finally:
            submissions_release(claimed)
    for order, status in sent:
        _count(order, SubmitOutcome(True, f"submitted as {status.number}"), report)


def _count(order: Order, outcome: SubmitOutcome, report: RunReport) -> None:
    if outcome.skipped:
        report.skipped += 1
        report.say(f"{order.number}: {outcome.message}")
    elif outcome.ok:
        report.created += 1
        report.succeeded(submit_issue_key(order))
    else:
        report.issue(submit_issue_key(order), f"order {order.number}: {outcome.message}", fulfillment_payload(order))


def submissions_claim(*, channel: Channel, order_ids: Sequence[int], queued: str = "") -> list[Order]:
    """Claim those of the orders that are still ready, for one submission each, and count an attempt (with its
    idempotency key) for those not cancelled on the channel meanwhile: committed before anything is sent. The
    claimed orders, oldest first, read after the claim (their cancellation flag is the one the send goes by)."""
    now, me = timezone.now(), lease_holder()
    ready = orders_ready(channel=channel, now=now).filter(pk__in=order_ids).order_by()
    free = Q(submitting_at__isnull=True) | Q(submitting_at__lt=now - CLAIM_STALE)
    if queued:
        free |= Q(submitting_by=queued)
    with transaction.atomic():
        ready.filter(free).update(submitting_at=now, submitting_by=me)
        held = ready.exclude(submitting_at=now, submitting_by=me).values_list("pk", "submitting_at", "submitting_by")
        for pk, at, by in held:
            if not holder_alive(by):  # its sender died mid-send: taken over (the same key makes a resend harmless)
                ready.filter(pk=pk, submitting_at=at, submitting_by=by).update(submitting_at=now, submitting_by=me)
        if queued:  # those of the chunk that left the ready ones meanwhile (held by a person, say) are let go
            Order.objects.filter(pk__in=order_ids, submitting_by=queued).update(submitting_at=None, submitting_by="")
        claimed = list(
            Order.objects.filter(pk__in=order_ids, submitting_at=now, submitting_by=me)
            .select_related("channel", "customer")
            .order_by("placed_at", "id")
        )
        sending = [order for order in claimed if not order.cancel_requested]
        keyless = [order for order in sending if not order.idempotency_key]
        for order in keyless:
            order.idempotency_key = submission_key(order)
        Order.objects.bulk_update(keyless, ["idempotency_key"])
        Order.objects.filter(pk__in=[order.pk for order in sending]).update(
            submit_attempts=F("submit_attempts") + 1, updated_at=now
        )
    for order in sending:
        order.submit_attempts += 1
    return claimed


def submissions_release(orders: Sequence[Order]) -> None:
    """Let go of the claims these orders still hold (one a takeover replaced is not ours any more)."""
    by_claim: dict[Any, list[int]] = {}
    for order in orders:
        by_claim.setdefault((order.submitting_at, order.submitting_by), []).append(order.pk)
    for (at, by), ids in by_claim.items():
        Order.objects.filter(pk__in=ids, submitting_at=at, submitting_by=by).update(
            submitting_at=None, submitting_by=""
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
            **_SUBMITTED_FIELDS,
            "fulfillment_number": status.number,
            "submitted_at": timezone.now(),
        },
    )


def _submitted_many(sent: Sequence[tuple[Order, FulfillmentStatus]]) -> None:
    """`_submitted` for a batch: one UPDATE per status and one insert of events. Should an order have moved
    meanwhile, each is recorded alone (the one that moved raising, as `_submitted` does)."""
    by_target: dict[str, list[tuple[Order, FulfillmentStatus]]] = {}
    for order, status in sent:
        target = OrderStatus.RESUBMITTED if order.status == OrderStatus.DELETED else OrderStatus.SUBMITTED
        by_target.setdefault(target, []).append((order, status))
    try:
        with transaction.atomic():
            for to, group in by_target.items():
                label = OrderStatus(to).label
                orders_transition(
                    orders=[order for order, _ in group],
                    to=to,
                    message={
                        order.pk: f"{label} to the fulfillment system as {status.number} (key {order.idempotency_key})."
                        for order, status in group
                    },
                    fields={
                        **_SUBMITTED_FIELDS,
                        "fulfillment_number": Case(
                            *(When(pk=order.pk, then=Value(status.number)) for order, status in group),
                            output_field=CharField(),
                        ),
                        "submitted_at": timezone.now(),
                    },
                )
                for order, status in group:
                    order.fulfillment_number = status.number
    except IllegalTransition:
        for order, status in sent:
            if order.status not in (OrderStatus.SUBMITTED, OrderStatus.RESUBMITTED):
                _submitted(order, status, user=None)


_SUBMITTED_FIELDS = {"acknowledged_at": None, "next_attempt_at": None, "first_failure_at": None, "last_error": ""}


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
        attributes=_with_line_details(order.attributes, lines),
    )


# Line facts the fulfillment system is told: the OMS contract's lines take no extra fields, so they go in the
# order's free-form `attributes` as `lines` = {line_ref: {"warehouse": …, "ship_start": …, "ship_end": …}}.
FULFILLMENT_LINE_ATTRIBUTES = ("warehouse", "ship_start", "ship_end")


def _with_line_details(attributes: dict[str, Any], lines: list[OrderLine]) -> dict[str, Any]:
    details = {}
    for line in lines:
        if line.is_bundle or not line.item_id or line.quantity <= 0:
            continue
        facts = {k: line.attributes[k] for k in FULFILLMENT_LINE_ATTRIBUTES if line.attributes.get(k) not in (None, "")}
        if facts:
            details[line.external_id] = facts
    return {**attributes, "lines": details} if details else dict(attributes)


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
