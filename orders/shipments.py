"""Shipments from the fulfillment system into the hub.

A shipment is stored once, on (order, fulfillment shipment id); the first time it is stored its line
quantities are added to the order lines, the order moves to partially_shipped or shipped, and an upload is
queued in the outbox for the order's sales channel. The same shipment read again (the download's overlap,
a re-run) adds nothing: only a changed tracking number, carrier or invoice is written. When the tracking
number, carrier or service of a shipment already sent to its sales channel changes, its upload is queued
again as a correction (orders/shipment_upload.py), and the change is recorded on the order.

Nothing is capped or guessed: a shipment for an order the hub does not know, for a line the order does not
have, or for more than a line has open is refused whole and goes to the issue queue with its payload. Each
run first tries those refused shipments again (the order may have arrived since), so an issue resolves
itself once the shipment can be applied.

Work is set-based per chunk of shipments: a fixed number of queries per chunk, one transaction per chunk,
and the download cursor moves in that same transaction.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from itertools import islice
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations.chunks import batched
from integrations.connectors.records import ShipmentLineRecord, ShipmentRecord
from integrations.flows import RunReport
from integrations.models import Channel, SyncIssue
from integrations.runner import supported_flows
from orders.models import (
    EventKind,
    Order,
    OrderEvent,
    OrderLine,
    Shipment,
    ShipmentLine,
    ShipmentUpload,
    UploadState,
)
from orders.models import OrderStatus as S
from orders.states import IN_FULFILLMENT, orders_transition

DOWNLOAD = "shipments.download"
UPLOAD = "shipments.upload"
CHUNK = 500
# An order in one of these may receive a shipment; anything else (held, cancelled, deleted...) is refused.
SHIPPABLE = IN_FULFILLMENT | {S.BATCHED, S.PARTIALLY_SHIPPED}
HEADER = ("tracking_number", "carrier", "service", "invoice_number", "warehouse", "shipped_at")
CORRECTED = ("tracking_number", "carrier", "service")  # what the sales channels are sent again


@dataclass
class LineState:
    """An order line as the chunk sees it, quantities updated as shipments in the chunk are accepted."""

    id: int
    order_id: int
    external_id: str
    parent_id: int | None
    is_bundle: bool
    quantity: int
    shipped: int
    cancelled: int

    @property
    def open(self) -> int:
        return self.quantity - self.shipped - self.cancelled


@dataclass
class ShipmentTotals:
    last_updated_at: datetime | None = None
    stored: list[int] = field(default_factory=list)  # ids of the shipments stored by this run


class ShipmentIngest:
    """Store shipments downloaded from `fulfillment` (a fulfillment system channel)."""

    def __init__(self, *, fulfillment: Channel, report: RunReport, dry_run: bool = False):
        self.fulfillment, self.report, self.dry_run = fulfillment, report, dry_run
        self.totals = ShipmentTotals()
        self.uploads_to = {
            pk for pk, kind in fulfillment.sales_channels.values_list("pk", "kind") if UPLOAD in supported_flows(kind)
        }

    def run(
        self,
        records: Iterable[ShipmentRecord],
        *,
        on_chunk: Callable[[datetime], None] | None = None,
    ) -> ShipmentTotals:
        """Apply records chunk by chunk; `on_chunk(newest updated_at)` runs inside each chunk's transaction."""
        iterator = iter(records)
        while chunk := list(islice(iterator, CHUNK)):
            newest = max((r.updated_at for r in chunk if r.updated_at), default=None)
            if newest and (self.totals.last_updated_at is None or newest > self.totals.last_updated_at):
                self.totals.last_updated_at = newest
            with transaction.atomic():
                self._chunk(chunk)
                if on_chunk and newest and not self.dry_run:
                    on_chunk(newest)
        return self.totals

    def retry_refused(self) -> None:
        """Apply again the shipments earlier runs refused (their payloads are in the open issues)."""
        payloads = SyncIssue.objects.filter(
            channel=self.fulfillment, flow=DOWNLOAD, status=SyncIssue.Status.OPEN
        ).values_list("payload", flat=True)
        records = [record for payload in payloads.iterator() if (record := shipment_from_payload(payload))]
        for start in range(0, len(records), CHUNK):
            with transaction.atomic():
                self._chunk(records[start : start + CHUNK])

    # One chunk.

    def _chunk(self, records: list[ShipmentRecord]) -> None:
        self.report.seen += len(records)
        orders = self._orders({r.order_number for r in records})
        known = self._existing(records, orders)
        lines = self._lines([o.pk for o in orders.values()])
        by_ref = {(line.order_id, line.external_id): line for line in lines.values()}
        new: list[tuple[ShipmentRecord, Order, dict[int, int]]] = []
        changed: list[Shipment] = []
        corrections: list[tuple[int, int, str]] = []  # shipment id, order id, event text
        for record in records:
            key = record.external_id
            order = orders.get(record.order_number)
            if order is None:
                self.report.issue(
                    key,
                    f"shipment {key}: no order with fulfillment number {record.order_number!r} was submitted "
                    f"by this hub to {self.fulfillment.name}; it will be tried again on the next download",
                    shipment_payload(record),
                )
                continue
            stored = known.get((order.pk, key))
            if stored is not None:
                if _header_changed(stored, record):
                    if correction := _correction(stored, record):
                        corrections.append((stored.pk, order.pk, correction))
                    changed.append(_with_header(stored, record))
                else:
                    self.report.skipped += 1
                self.report.succeeded(key)
                continue
            quantities, errors = _line_quantities(record, order, lines, by_ref)
            if order.status not in SHIPPABLE:
                errors.insert(0, f"order {order.number} is {order.get_status_display().lower()}")
            if errors:
                self.report.issue(key, f"shipment {key} was not applied: {'; '.join(errors)}", shipment_payload(record))
                continue
            for line_id, quantity in quantities.items():
                lines[line_id].shipped += quantity
            known[(order.pk, key)] = Shipment(order=order, external_id=key)  # a repeat in the chunk is a no-op
            new.append((record, order, quantities))
            self.report.succeeded(key)
        if self.dry_run:
            for record, order, quantities in new:
                self.report.say(
                    f"would store shipment {record.external_id} for order {order.number}: "
                    f"{sum(quantities.values())} unit(s), tracking {record.tracking_number or '-'}"
                )
            for _, _, text in corrections:
                self.report.say(f"would record {text}")
            return
        self._write(new, changed, lines)
        _queue_corrections(corrections)

    def _orders(self, numbers: set[str]) -> dict[str, Order]:
        rows = Order.objects.filter(
            channel__fulfillment=self.fulfillment, fulfillment_number__in=[n for n in numbers if n]
        ).only("id", "channel_id", "status", "number", "fulfillment_number")
        return {order.fulfillment_number: order for order in rows}

    def _existing(self, records: list[ShipmentRecord], orders: dict[str, Order]) -> dict[tuple[int, str], Shipment]:
        rows = Shipment.objects.filter(
            order_id__in=[o.pk for o in orders.values()], external_id__in={r.external_id for r in records}
        ).only("id", "order_id", "external_id", *HEADER)
        return {(s.order_id, s.external_id): s for s in rows}

    def _lines(self, order_ids: list[int]) -> dict[int, LineState]:
        rows = OrderLine.objects.filter(order_id__in=order_ids).values_list(
            "id", "order_id", "external_id", "parent_id", "is_bundle", "quantity", "quantity_shipped",
            "quantity_cancelled",
        )  # fmt: skip
        return {row[0]: LineState(*row) for row in rows.order_by()}

    def _write(
        self,
        new: list[tuple[ShipmentRecord, Order, dict[int, int]]],
        changed: list[Shipment],
        lines: dict[int, LineState],
    ) -> None:
        now = timezone.now()
        if changed:
            Shipment.objects.bulk_update(changed, [*HEADER, "updated_at"])
            self.report.updated += len(changed)
        if not new:
            return
        Shipment.objects.bulk_create(
            Shipment(
                order_id=order.pk,
                channel_id=order.channel_id,
                external_id=record.external_id,
                created_at=now,
                updated_at=now,
                **_header(record),
            )
            for record, order, _ in new
        )
        ids = dict(
            Shipment.objects.filter(
                order_id__in={order.pk for _, order, _ in new}, external_id__in=[r.external_id for r, _, _ in new]
            ).values_list("external_id", "id")
        )
        ShipmentLine.objects.bulk_create(
            ShipmentLine(shipment_id=ids[record.external_id], order_line_id=line_id, quantity=quantity)
            for record, _, quantities in new
            for line_id, quantity in quantities.items()
        )
        _add_shipped(new)
        _bundle_progress(lines, {line_id for _, _, quantities in new for line_id in quantities})
        ShipmentUpload.objects.bulk_create(
            [
                ShipmentUpload(shipment_id=ids[record.external_id], channel_id=order.channel_id, created_at=now)
                for record, order, _ in new
                if order.channel_id in self.uploads_to
            ],
            ignore_conflicts=True,
        )
        OrderEvent.objects.bulk_create(
            OrderEvent(order_id=order.pk, kind=EventKind.SHIPMENT, message=_event_text(record, quantities))
            for record, order, quantities in new
        )
        _orders_progress({order.pk: order for _, order, _ in new}, lines, new)
        self.report.created += len(new)
        self.totals.stored.extend(ids[record.external_id] for record, _, _ in new)


def _line_quantities(
    record: ShipmentRecord,
    order: Order,
    lines: dict[int, LineState],
    by_ref: dict[tuple[int, str], LineState],
) -> tuple[dict[int, int], list[str]]:
    """The quantity per order line the shipment ships, and what is wrong with it (nothing is ever capped)."""
    quantities: dict[int, int] = defaultdict(int)
    errors = []
    for shipped in record.lines:
        line = by_ref.get((order.pk, shipped.line_ref))
        if line is None:
            errors.append(f"order {order.number} has no line {shipped.line_ref!r} ({shipped.sku})")
        elif line.is_bundle:
            errors.append(f"line {shipped.line_ref!r} is a bundle; only its components are shipped")
        elif shipped.quantity <= 0:
            errors.append(f"line {shipped.line_ref!r} ({shipped.sku}) ships {shipped.quantity}")
        else:
            quantities[line.id] += shipped.quantity
    if not record.lines:
        errors.append("it has no lines")
    for line_id, quantity in quantities.items():
        line = lines[line_id]
        if quantity > line.open:
            errors.append(
                f"line {line.external_id!r} ships {quantity} but only {line.open} is open "
                f"(ordered {line.quantity}, shipped {line.shipped}, cancelled {line.cancelled})"
            )
    return dict(quantities), errors


def _add_shipped(new: list[tuple[ShipmentRecord, Order, dict[int, int]]]) -> None:
    """Add the shipped quantities with one UPDATE per distinct quantity (F() additions, checked by the database)."""
    totals: dict[int, int] = defaultdict(int)
    for _, _, quantities in new:
        for line_id, quantity in quantities.items():
            totals[line_id] += quantity
    by_quantity: dict[int, list[int]] = defaultdict(list)
    for line_id, quantity in totals.items():
        by_quantity[quantity].append(line_id)
    for quantity, line_ids in by_quantity.items():
        for chunk in batched(line_ids, 500):
            OrderLine.objects.filter(pk__in=chunk).update(quantity_shipped=F("quantity_shipped") + quantity)


def _bundle_progress(lines: dict[int, LineState], touched: set[int]) -> None:
    """A bundle line counts as shipped as many times as every one of its components has been shipped in full."""
    parents = {lines[line_id].parent_id for line_id in touched if lines[line_id].parent_id}
    if not parents:
        return
    components: dict[int, list[LineState]] = defaultdict(list)
    for line in lines.values():
        if line.parent_id in parents:
            components[line.parent_id].append(line)
    by_value: dict[int, list[int]] = defaultdict(list)
    for parent_id, parts in components.items():
        parent = lines[parent_id]
        shipped = min(part.shipped * parent.quantity // part.quantity for part in parts if part.quantity)
        shipped = min(shipped, parent.quantity - parent.cancelled)
        if shipped != parent.shipped:
            parent.shipped = shipped
            by_value[shipped].append(parent_id)
    for value, ids in by_value.items():
        OrderLine.objects.filter(pk__in=ids).update(quantity_shipped=value)


def _orders_progress(
    orders: dict[int, Order], lines: dict[int, LineState], new: list[tuple[ShipmentRecord, Order, dict]]
) -> None:
    """Move each order that received a shipment to shipped (every line shipped or cancelled) or partially_shipped."""
    complete = order_complete_map(lines.values())
    what: dict[int, list[str]] = defaultdict(list)
    for record, order, _ in new:
        what[order.pk].append(record.external_id)
    # Read the statuses again, locked: another flow (an acknowledgement, a cancellation) may have moved an order
    # since the chunk was read, and the transition refuses an order that is not where it was read.
    current = dict(Order.objects.select_for_update().filter(pk__in=list(orders)).values_list("pk", "status"))
    targets: dict[str, list[Order]] = defaultdict(list)
    for order_id, order in orders.items():
        order.status = current.get(order_id, order.status)
        to = S.SHIPPED if complete.get(order_id) else S.PARTIALLY_SHIPPED
        if order.status != to:
            targets[to].append(order)
    for to, group in targets.items():
        orders_transition(orders=group, to=to, message={o.pk: f"shipment {', '.join(what[o.pk])}" for o in group})


def order_complete_map(lines: Iterable[Any]) -> dict[int, bool]:
    """Per order: is every line that is sent (not a bundle line) shipped or cancelled in full?"""
    complete: dict[int, bool] = {}
    for line in lines:
        if line.is_bundle:
            continue
        done = line.shipped + line.cancelled >= line.quantity
        complete[line.order_id] = complete.get(line.order_id, True) and done
    return complete


def _header(record: ShipmentRecord) -> dict[str, Any]:
    return {
        "tracking_number": record.tracking_number,
        "carrier": record.carrier,
        "service": record.service,
        "invoice_number": record.invoice_number,
        "warehouse": record.warehouse,
        "shipped_at": record.shipped_at,
    }


def _queue_corrections(corrections: list[tuple[int, int, str]]) -> None:
    """Queue the uploads of corrected shipments again: those sent, and corrections that failed before. A row
    still pending sends the new values anyway; a first upload that failed waits for a person's re-send."""
    if not corrections:
        return
    now = timezone.now()
    ShipmentUpload.objects.filter(shipment_id__in=[shipment_id for shipment_id, _, _ in corrections]).filter(
        Q(state=UploadState.SENT) | Q(state=UploadState.FAILED, correction=True)
    ).update(
        state=UploadState.PENDING, correction=True, attempts=0, next_attempt_at=None, last_error="", updated_at=now
    )
    OrderEvent.objects.bulk_create(
        OrderEvent(order_id=order_id, kind=EventKind.SHIPMENT, message=text, created_at=now)
        for _, order_id, text in corrections
    )


def _correction(stored: Shipment, record: ShipmentRecord) -> str:
    """The order event for a change the sales channel must be sent again; "" when there is none."""
    changes = [
        f"{name.replace('_', ' ')} {getattr(stored, name) or '-'} → {getattr(record, name) or '-'}"
        for name in CORRECTED
        if getattr(stored, name) != getattr(record, name)
    ]
    return f"shipment {record.external_id} corrected: {', '.join(changes)}" if changes else ""


def _header_changed(stored: Shipment, record: ShipmentRecord) -> bool:
    return any(getattr(stored, name) != value for name, value in _header(record).items())


def _with_header(stored: Shipment, record: ShipmentRecord) -> Shipment:
    for name, value in _header(record).items():
        setattr(stored, name, value)
    stored.updated_at = timezone.now()
    return stored


def _event_text(record: ShipmentRecord, quantities: dict[int, int]) -> str:
    parts = [f"shipment {record.external_id}: {sum(quantities.values())} unit(s)"]
    if record.tracking_number:
        parts.append(f"tracking {record.carrier} {record.tracking_number}".replace("  ", " "))
    if record.invoice_number:
        parts.append(f"invoice {record.invoice_number}")
    return ", ".join(parts)


def shipment_payload(record: ShipmentRecord) -> dict[str, Any]:
    """The record as JSON (kept on an issue so the next run can apply it again)."""
    data = asdict(record)
    for name in ("shipped_at", "updated_at"):
        data[name] = data[name].isoformat() if data[name] else None
    return data


def shipment_from_payload(data: Any) -> ShipmentRecord | None:
    """The record an issue keeps, or None for a payload that is not one."""
    try:
        lines = tuple(ShipmentLineRecord(**line) for line in data["lines"])
        record = ShipmentRecord(**{**data, "lines": lines})
        return replace(
            record,
            shipped_at=datetime.fromisoformat(data["shipped_at"]) if data["shipped_at"] else None,
            updated_at=None,  # a retried record must not move the cursor
        )
    except (KeyError, TypeError, ValueError):
        return None
