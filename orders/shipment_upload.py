"""Shipments out to the sales channels, through the outbox (`ShipmentUpload`).

For each pending row, oldest first, the shipment is put in the channel's terms: the channel's own lines
(a bundle line counts the bundles whose every component has now shipped in full), only the quantities this
shipment picked, and `order_complete` when, with it, every line of the order is shipped or cancelled (the
connector marks the channel order shipped only then).

Exactly once: `attempts` is counted and committed before any call (one UPDATE for a batch of rows), and a
row is marked sent only after the channel took it (one UPDATE at the end of the batch). A row that has
been tried before (a timeout, a dropped connection, a 5xx, a crash before the batch was marked) first reads
back the shipments the channel has for the order, and is marked sent without sending when its shipment is
there. A retryable failure is tried again in the same run (after the read-back), then left pending with a
backoff; a refusal marks the row failed until a person re-sends it. Either way the run goes on with the
next row.
"""

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Least
from django.utils import timezone

from integrations.connectors.capabilities import ShipmentSink
from integrations.connectors.records import ShipmentLineRecord, ShipmentRecord
from integrations.flows import RunReport
from integrations.http import AuthFailed, ChannelError, ClientError
from integrations.models import Channel
from integrations.runner import failure_reason
from orders.acknowledgement import FLOW as ACKNOWLEDGE
from orders.models import (
    EventKind,
    Order,
    OrderEvent,
    OrderLine,
    OrderRules,
    ShipmentLine,
    ShipmentUpload,
    ShipmentUploadMode,
    UploadState,
)
from orders.models import OrderStatus as S
from orders.ship_from import ship_from_warehouses
from orders.shipments import CORRECTED
from orders.whole_order_upload import Riders, rider_event, riders_follow, whole_orders

log = logging.getLogger(__name__)

BATCH = 200
TRIES_PER_RUN = 3
MAX_ATTEMPTS = 12  # then the row is failed and waits for a person
MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True)
class ChannelLine:
    id: int
    order_id: int
    external_id: str
    channel_sku: str
    parent_id: int | None
    is_bundle: bool
    quantity: int
    cancelled: int


def shipments_upload(*, channel: Channel, connector: ShipmentSink, report: RunReport, dry_run: bool = False) -> None:
    """Send the channel's due outbox rows, oldest first, `BATCH` rows per read."""
    wait_for_complete = _mode(channel) == ShipmentUploadMode.COMPLETE
    due = ShipmentUpload.objects.filter(channel=channel, state=UploadState.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now())
    )
    if connector.ships_after_acknowledgement and channel.flow_enabled(ACKNOWLEDGE):
        due = _acknowledged(due, report)
    last = 0
    while batch := list(due.filter(pk__gt=last).select_related("shipment__order").order_by("pk")[:BATCH]):
        last = batch[-1].pk
        records = channel_shipments(batch)
        riders: Riders = {}
        if connector.confirms_whole_order:  # one upload per complete order, carrying every parcel
            batch, records, riders = whole_orders(batch, records, report, channel_shipments)
        if connector.names_ship_from:
            records = _with_ship_from(channel, records, report)
        sender = ShipmentSender(channel, connector, report, riders)
        ready = []
        for upload in batch:
            report.seen += 1
            order, record = upload.shipment.order, records[upload.pk]
            if wait_for_complete and order.status != S.SHIPPED and not upload.correction:
                report.skipped += 1  # sent once every line of the order is shipped or cancelled
            elif dry_run:
                report.say(f"would send {_describe(upload, record)} to order {order.number}")
            elif not record.lines:
                report.skipped += 1
                sender.done(upload, "nothing the channel takes yet: only part of a bundle has shipped")
            else:
                ready.append(upload)
        try:
            for upload in sender.claim(ready):
                sender.send(upload, records[upload.pk])
        finally:
            sender.flush()


class ShipmentSender:
    """A batch of outbox rows to their channel, each exactly once (see the module docstring).

    The batch's attempts are counted with one committed UPDATE before the first call; the rows the channel
    took are marked sent with one UPDATE at the end of the batch (or when the run stops early). A crash in
    between leaves them counted and pending, so the next run reads them back instead of sending them again.
    """

    def __init__(self, channel: Channel, connector: ShipmentSink, report: RunReport, riders: Riders | None = None):
        self.channel, self.connector, self.report = channel, connector, report
        self.riders = riders or {}
        self.sent: list[tuple[ShipmentUpload, str]] = []

    def claim(self, uploads: list[ShipmentUpload]) -> list[ShipmentUpload]:
        """Count an attempt on every row (committed); the rows still pending, which this run now sends."""
        if not uploads:
            return []
        ids = [u.pk for u in uploads]
        claimed = ShipmentUpload.objects.filter(pk__in=ids, state=UploadState.PENDING).update(
            attempts=F("attempts") + 1, updated_at=timezone.now()
        )
        if claimed != len(ids):  # a row changed meanwhile (runs are one at a time; a person may not be)
            still = set(
                ShipmentUpload.objects.filter(pk__in=ids, state=UploadState.PENDING).values_list("pk", flat=True)
            )
            self.report.skipped += len(ids) - len(still)
            uploads = [u for u in uploads if u.pk in still]
        for upload in uploads:
            upload.tried_before = upload.attempts > 0
            upload.attempts += 1
        return uploads

    def send(self, upload: ShipmentUpload, record: ShipmentRecord) -> None:
        key, order = upload.shipment.external_id, upload.shipment.order
        error: ChannelError | None = None
        for n in range(TRIES_PER_RUN):
            if n and not _claim(upload):
                self.report.skipped += 1  # changed by someone else meanwhile
                return
            try:
                event = self.call(upload, order, record)
            except AuthFailed:
                raise  # every row would fail the same way: the run fails, the rows stay pending
            except ChannelError as exc:
                error = exc
                if not exc.retryable:
                    break
                upload.tried_before = True
                time.sleep(settings.HTTP_RETRY_BACKOFF * 2**n)
                continue
            self.report.succeeded(key)
            self.done(upload, event)
            for rider in self.riders.get(upload.pk, []):
                self.done(rider, rider_event(rider, upload, self.channel.name))
            return
        _mark_unsent(upload, error)
        riders_follow(self.riders.get(upload.pk, []), upload)
        state = "failed: re-send it once fixed" if upload.state == UploadState.FAILED else "will be retried"
        what = "correction of shipment" if upload.correction else "shipment"
        self.report.issue(
            key, f"{what} {key} of order {order.number} was not sent ({state}): {upload.last_error}", None
        )

    def call(self, upload: ShipmentUpload, order: Order, record: ShipmentRecord) -> str:
        """The one call this row needs, if any; the event to record on the order."""
        if upload.correction and not self.connector.corrects_shipments:
            raise ClientError(uncorrectable(self.channel), channel=self.channel.slug)
        held = self.held(order, record) if upload.tried_before or upload.correction else None
        if upload.correction:
            if held is None:
                raise ClientError(
                    f"shipment {record.external_id} is not on order {order.external_id} at {self.channel.name}: "
                    "nothing to correct",
                    channel=self.channel.slug,
                )
            if _channel_header(held) != _channel_header(record):
                self.connector.shipment_correct(external_id=order.external_id, shipment=record, held=held)
            self.report.updated += 1
            carrier = " / ".join(part for part in (record.carrier, record.service) if part) or "-"
            return (
                f"shipment {record.external_id}: tracking corrected to {record.tracking_number or '-'} "
                f"({carrier}) on {self.channel.name}"
            )
        if held is not None and not self.connector.upload_reads_back:
            log.info("shipment %s is already on order %s: not sent again", record.external_id, order.external_id)
        else:
            self.connector.shipment_upload(external_id=order.external_id, shipment=record)
        self.report.created += 1
        return f"{_describe(upload, record)} sent to {self.channel.name}"

    def done(self, upload: ShipmentUpload, event: str) -> None:
        self.sent.append((upload, event))

    def flush(self) -> None:
        """Mark the rows the channel took as sent, and record an event on each order (one UPDATE, one INSERT)."""
        if not self.sent:
            return
        now = timezone.now()
        ShipmentUpload.objects.filter(pk__in=[u.pk for u, _ in self.sent]).update(
            state=UploadState.SENT, correction=False, sent_at=now, last_error="", next_attempt_at=None, updated_at=now
        )
        OrderEvent.objects.bulk_create(
            OrderEvent(order_id=u.shipment.order_id, kind=EventKind.SHIPMENT, message=event, created_at=now)
            for u, event in self.sent
        )
        self.sent = []

    def held(self, order: Order, record: ShipmentRecord) -> ShipmentRecord | None:
        """The channel's copy of this shipment, if any: by its id, or its tracking number; and a copy with no
        tracking number (the OMS may ship without one) by its lines and quantities, unless it is another of the
        order's shipments. Without that last match a lost answer to a tracking-less shipment is sent again and
        the channel counts its units twice (issue 17)."""
        listed = self.connector.shipments_list(order.external_id)
        for found in listed:
            if found.external_id == record.external_id:
                return found
            if record.tracking_number and found.tracking_number == record.tracking_number:
                return found
        untracked = [found for found in listed if not found.tracking_number and _same_lines(found, record)]
        if untracked:
            ours = set(order.shipments.values_list("external_id", flat=True))
            return next((found for found in untracked if found.external_id not in ours), None)
        return None


def channel_shipments(uploads: list[ShipmentUpload]) -> dict[int, ShipmentRecord]:
    """Each row's shipment as its channel takes it; two queries for the whole batch."""
    order_ids = {u.shipment.order_id for u in uploads}
    lines: dict[int, list[ChannelLine]] = defaultdict(list)
    rows = OrderLine.objects.filter(order_id__in=order_ids).order_by("position", "id")
    for row in rows.values_list(
        "id", "order_id", "external_id", "channel_sku", "parent_id", "is_bundle", "quantity", "quantity_cancelled"
    ):
        lines[row[1]].append(ChannelLine(*row))
    shipped: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for shipment_id, order_id, line_id, quantity in (
        ShipmentLine.objects.filter(shipment__order_id__in=order_ids)
        .order_by()
        .values_list("shipment_id", "shipment__order_id", "order_line_id", "quantity")
    ):
        shipped[order_id].append((shipment_id, line_id, quantity))
    return {
        u.pk: channel_shipment(u.shipment, lines[u.shipment.order_id], shipped[u.shipment.order_id]) for u in uploads
    }


def channel_shipment(
    shipment: Any, lines: list[ChannelLine], shipped: Iterable[tuple[int, int, int]]
) -> ShipmentRecord:
    """What `shipment` adds on the channel's lines, given every (shipment id, line id, quantity) of its order.

    Shipments count in the order they were stored (their ids), so each one sends what it added, and the one
    after which every line is shipped or cancelled carries `order_complete`.
    """
    before: dict[int, int] = defaultdict(int)
    through: dict[int, int] = defaultdict(int)
    for shipment_id, line_id, quantity in shipped:
        if shipment_id < shipment.pk:
            before[line_id] += quantity
        if shipment_id <= shipment.pk:
            through[line_id] += quantity
    components: dict[int, list[ChannelLine]] = defaultdict(list)
    for line in lines:
        if line.parent_id:
            components[line.parent_id].append(line)
    sent, complete = [], True
    for line in lines:
        if line.parent_id:
            continue
        if line.is_bundle:
            parts = components[line.id]
            now, earlier = _bundles(line, parts, through), _bundles(line, parts, before)
        else:
            now, earlier = through[line.id], before[line.id]
        if now > earlier:
            sent.append(ShipmentLineRecord(line_ref=line.external_id, sku=line.channel_sku, quantity=now - earlier))
        complete = complete and now + line.cancelled >= line.quantity
    order = shipment.order
    return ShipmentRecord(
        external_id=shipment.external_id,
        order_number=order.external_id,
        tracking_number=shipment.tracking_number,
        carrier=shipment.carrier,
        service=shipment.service,
        invoice_number=shipment.invoice_number,
        warehouse=shipment.warehouse,
        shipped_at=shipment.shipped_at,
        lines=tuple(sent),
        order_complete=complete,
    )


def uploads_resend(*, upload_ids: Iterable[int], user: Any = None) -> set[int]:
    """Put the rows among `upload_ids` that are failed back in the queue, record it on each order with the
    user, and return their ids. They keep a count of one attempt, so they are read back from the channel
    before anything is sent, with a fresh budget of attempts."""
    with transaction.atomic():
        failed = list(
            ShipmentUpload.objects.select_for_update(of=("self",))
            .filter(pk__in=list(upload_ids), state=UploadState.FAILED)
            .select_related("shipment")
        )
        ShipmentUpload.objects.filter(pk__in=[u.pk for u in failed]).update(
            state=UploadState.PENDING,
            attempts=Least(F("attempts"), 1),
            next_attempt_at=None,
            last_error="",
            updated_at=timezone.now(),
        )
        OrderEvent.objects.bulk_create(
            OrderEvent(
                order_id=u.shipment.order_id,
                kind=EventKind.SHIPMENT,
                message=f"upload of shipment {u.shipment.external_id} re-queued by {user or 'the system'}",
                user=user,
            )
            for u in failed
        )
    return {u.pk for u in failed}


def _acknowledged(due: QuerySet[ShipmentUpload], report: RunReport) -> QuerySet[ShipmentUpload]:
    """The rows whose order the channel has been told about (its acknowledgement committed, so every call of it
    has returned); the others wait, and a note counts them.

    On a channel whose acknowledgement sets the order status its shipments set too (NuORDER: `processed`, then
    `shipped`), an acknowledgement that read the order just before a shipment marked it shipped would set it
    back to processed, and nothing would ever mark it shipped again (two clusters found it: issue 17)."""
    waiting = due.filter(shipment__order__acknowledged_at__isnull=True).count()
    if waiting:
        report.note(f"{waiting} shipment(s) wait until their order is acknowledged on the channel")
    return due.filter(shipment__order__acknowledged_at__isnull=False)


def _with_ship_from(
    channel: Channel, records: dict[int, ShipmentRecord], report: RunReport
) -> dict[int, ShipmentRecord]:
    """Each record with the channel warehouse it left from, where its warehouse is paired with exactly one;
    a note per warehouse that names none, and why."""
    named, why = ship_from_warehouses(channel=channel, codes=(r.warehouse for r in records.values()))
    for reason in why.values():
        if reason not in report.notes:
            report.note(reason)
    return {pk: replace(r, channel_warehouse=named.get(r.warehouse, "")) for pk, r in records.items()}


def _same_lines(found: ShipmentRecord, record: ShipmentRecord) -> bool:
    """The same quantities of the same channel lines."""

    def lines(shipment: ShipmentRecord) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for line in shipment.lines:
            totals[line.line_ref] += line.quantity
        return dict(totals)

    return bool(record.lines) and lines(found) == lines(record)


def _bundles(bundle: ChannelLine, parts: list[ChannelLine], shipped: dict[int, int]) -> int:
    """How many whole bundles the shipped component quantities make."""
    counts = [shipped[p.id] * bundle.quantity // p.quantity for p in parts if p.quantity]
    return min(counts) if counts else 0


def _claim(upload: ShipmentUpload) -> bool:
    """Count the attempt and commit it before the call; False when the row moved on meanwhile."""
    now = timezone.now()
    claimed = ShipmentUpload.objects.filter(pk=upload.pk, state=UploadState.PENDING, attempts=upload.attempts).update(
        attempts=F("attempts") + 1, updated_at=now
    )
    if claimed:
        upload.attempts += 1
    return bool(claimed)


def _mark_unsent(upload: ShipmentUpload, error: ChannelError | None) -> None:
    """Retryable errors wait with a backoff until MAX_ATTEMPTS; a refusal (or the last attempt) fails the row."""
    now = timezone.now()
    retry = error is not None and error.retryable and upload.attempts < MAX_ATTEMPTS
    upload.state = UploadState.PENDING if retry else UploadState.FAILED
    upload.last_error = failure_reason(error) if error else "not sent"
    upload.next_attempt_at = now + min(timedelta(minutes=2**upload.attempts), MAX_BACKOFF) if retry else None
    ShipmentUpload.objects.filter(pk=upload.pk).update(
        state=upload.state, last_error=upload.last_error, next_attempt_at=upload.next_attempt_at, updated_at=now
    )


def _mode(channel: Channel) -> str:
    mode = OrderRules.objects.filter(channel=channel).values_list("shipment_upload", flat=True).first()
    return mode or ShipmentUploadMode.EACH


def uncorrectable(channel: Channel) -> str:
    """Why a correction cannot go to a channel whose connector lacks `corrects_shipments`."""
    return f"{channel.name}'s API cannot change a shipment once it is sent: correct the tracking on the channel"


def _channel_header(record: ShipmentRecord) -> tuple[str, ...]:
    return tuple(getattr(record, name) for name in CORRECTED)


def _describe(upload: ShipmentUpload, record: ShipmentRecord) -> str:
    units = sum(line.quantity for line in record.lines)
    tracking = ", ".join(p.tracking_number or "-" for p in record.parcels) or record.tracking_number or "-"
    text = f"shipment {upload.shipment.external_id} ({units} unit(s), tracking {tracking})"
    return text + (", marking the order shipped" if record.order_complete else "")
