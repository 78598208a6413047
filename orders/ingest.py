"""The set-based order upsert behind every download: the scheduled flow, the hook, backfills, resubmit.

Records are taken a chunk at a time. Per chunk: one read of the existing orders' hashes, and — only if
something changed — one transaction that writes customers, orders, lines and events in bulk. The same
record twice writes nothing (the content hash is equal). A chunk is all or nothing, so a fault mid-download
never leaves half an order; if the chunk's transaction fails (another writer got there first, a row the
database refuses) its records are retried one at a time and only the bad one goes to the issue queue.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from integrations.bulk import rows_insert
from integrations.connectors.records import BadRecord, OrderRecord, SkippedRecord
from integrations.flows import RunReport
from integrations.models import Channel
from inventory.downloads import channel_warehouses_seen
from orders.cancellation import CANCELLED_HERE, cancel_kept, cancels_here
from orders.customers import customers_upsert
from orders.lines import CatalogLookup, build_lines, lines_save
from orders.models import EventKind, Order, OrderEvent, OrderLine, OrderRules, OrderStatus
from orders.records import (
    INFO_FIELDS,
    REPLACED_FIELDS,
    Hashes,
    customer_ref,
    order_fields,
    record_hashes,
    record_problem,
    rules_exclusion,
)
from orders.states import LOCKED, NOT_SUBMITTED, orders_transition

CHUNK = 500
EXISTING = ("id", "external_id", "status", "content_hash", "fulfillment_hash", "submit_attempts")
EXISTING += ("changed_after_submit", "cancel_requested", "submitting_at")
FLAG_FIELDS = (*INFO_FIELDS, "changed_after_submit", "cancel_requested")

CREATE, REPLACE, FLAG, TOUCH = "create", "replace", "flag", "touch"
CANCEL_LOCAL, CANCEL_REMOTE, UNCHANGED, EXCLUDED, INVALID = "cancel", "cancel_remote", "unchanged", "excluded", "bad"
SKIPPED = "skipped"  # left out by the connector (a channel setting), before any planning
WRITES = frozenset({CREATE, REPLACE, FLAG, TOUCH, CANCEL_LOCAL, CANCEL_REMOTE})


@dataclass
class Planned:
    record: OrderRecord
    action: str
    hashes: Hashes | None = None
    row: dict[str, Any] | None = None
    note: str = ""


@dataclass
class IngestTotals:
    seen: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    last_updated_at: datetime | None = None  # the newest channel update seen: the next cursor position

    def count(self, action: str) -> int:
        return self.counts.get(action, 0)


class _Stale(Exception):
    """An order changed between the plan and the write: the chunk is redone a record at a time."""


class OrderIngest:
    """Upserts a channel's order records; counts on the run report, bad records to its issue list."""

    def __init__(self, *, channel: Channel, report: RunReport, dry_run: bool = False, chunk_size: int = CHUNK):
        self.channel, self.report, self.dry_run, self.chunk_size = channel, report, dry_run, chunk_size
        self.rules = OrderRules.objects.filter(channel=channel).first()
        self.lookup = CatalogLookup(channel)
        self.totals = IngestTotals()

    def run(
        self,
        records: Iterable[OrderRecord | BadRecord | SkippedRecord],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> IngestTotals:
        """Ingest every record; if the source fails midway, what was fully received is still stored, then it raises."""
        buffer: list[OrderRecord] = []
        skipped: dict[str, int] = {}
        try:
            for record in records:
                if isinstance(record, BadRecord):
                    self._bad(record)
                    continue
                if isinstance(record, SkippedRecord):
                    self._skipped(record, skipped)
                    continue
                buffer.append(record)
                if len(buffer) >= self.chunk_size:
                    self._flush(buffer, progress)
                    buffer = []
        finally:
            if buffer:
                self._flush(buffer, progress)
            for reason, count in skipped.items():
                self.report.note(f"{count} order(s) skipped: {reason}")
        return self.totals

    def _skipped(self, record: SkippedRecord, skipped: dict[str, int]) -> None:
        """An order the connector left out by a channel setting: counted skipped, its reason noted once per run."""
        self.totals.seen += 1
        self.report.seen += 1
        self.report.skipped += 1
        self.totals.counts[SKIPPED] = self.totals.count(SKIPPED) + 1
        skipped[record.reason] = skipped.get(record.reason, 0) + 1
        moment = record.updated_at  # the cursor moves past it, so the next run does not read it again
        if moment and (self.totals.last_updated_at is None or moment > self.totals.last_updated_at):
            self.totals.last_updated_at = moment
        if self.dry_run:
            self.report.say(f"{'skip':>13} {record.external_id}: {record.reason}")

    def _bad(self, record: BadRecord) -> None:
        """A record the connector could not read: to the issue queue; the download goes on."""
        self.totals.seen += 1
        self.report.seen += 1
        self.totals.counts[INVALID] = self.totals.count(INVALID) + 1
        self.report.issue(
            record.external_id, f"order {record.external_id} was not imported: {record.reason}", record.raw
        )

    def _flush(self, records: list[OrderRecord], progress: Callable[[int], None] | None) -> None:
        self.ingest_chunk(records)
        if progress:
            progress(len(records))

    def ingest_chunk(self, records: list[OrderRecord]) -> None:
        self.totals.seen += len(records)
        self.report.seen += len(records)
        for record in records:
            moment = record.updated_at
            if moment and (self.totals.last_updated_at is None or moment > self.totals.last_updated_at):
                self.totals.last_updated_at = moment
        self._write(records, fallback=True)

    def _write(self, records: list[OrderRecord], *, fallback: bool) -> None:
        plan = self._plan(records)
        writes = [p for p in plan if p.action in WRITES]
        if writes and not self.dry_run:
            try:
                with transaction.atomic():
                    self._apply(writes)
            except (DatabaseError, _Stale) as exc:
                if not fallback:
                    self.report.issue(records[0].external_id, f"could not store the order: {exc}", records[0].raw)
                    return
                for record in records:
                    self._write([record], fallback=False)
                return
        self._account(plan)

    # Planning: no writes.

    def _plan(self, records: list[OrderRecord]) -> list[Planned]:
        latest = {record.external_id: record for record in records}  # a record repeated in a chunk: last wins
        # No ORDER BY: with the model's (-placed_at, -id) SQLite walks every order of the channel in that index's
        # order to skip a sort, so each chunk cost as much as the channel's size. `__among` (one JSON parameter)
        # keeps it on the (channel, external_id) key whether or not the table has statistics.
        existing = Order.objects.filter(channel=self.channel, external_id__among=list(latest)).order_by()
        rows = {row["external_id"]: row for row in existing.values(*EXISTING)}
        return [self._classify(record, rows.get(record.external_id)) for record in latest.values()]

    def _classify(self, record: OrderRecord, row: dict[str, Any] | None) -> Planned:
        problem = record_problem(record)
        if problem:
            return Planned(record, INVALID, note=problem)
        hashes = record_hashes(record)
        if row is None:
            excluded = (
                "cancelled before it was imported"
                if record.cancelled
                else rules_exclusion(record, self.rules, go_live=self.channel.go_live_at)
            )
            return Planned(record, EXCLUDED if excluded else CREATE, hashes, note=excluded)
        status = row["status"]
        if row["content_hash"] == hashes.content:
            return Planned(record, UNCHANGED, hashes, row)
        if record.cancelled and status != OrderStatus.CANCELLED:
            local = cancels_here(status=status, submitting_at=row["submitting_at"])
            return Planned(record, CANCEL_LOCAL if local else CANCEL_REMOTE, hashes, row)
        if status in NOT_SUBMITTED:
            # Also while a submission is in flight: its payload is already built, and with an attempt counted
            # the order is flagged changed_after_submit, which the submission settles (orders.submission._send).
            return Planned(record, REPLACE, hashes, row)
        if row["fulfillment_hash"] != hashes.fulfillment and status != OrderStatus.CANCELLED:
            return Planned(record, FLAG, hashes, row)
        return Planned(record, TOUCH, hashes, row)

    def _account(self, plan: list[Planned]) -> None:
        report = self.report
        for p in plan:
            key = p.record.external_id
            self.totals.counts[p.action] = self.totals.count(p.action) + 1
            if p.action == INVALID:
                report.issue(key, f"order {p.record.number or key} was not imported: {p.note}", p.record.raw)
                continue
            if p.action == CREATE:
                report.created += 1
            elif p.action in WRITES:
                report.updated += 1
            else:
                report.skipped += 1
            report.succeeded(key)
            if self.dry_run and p.action != UNCHANGED:
                report.say(f"{p.action:>13} {p.record.number or key}" + (f": {p.note}" if p.note else ""))

    # Writing: inside one transaction per chunk.

    def _apply(self, plan: list[Planned]) -> None:
        now = timezone.now()
        self._lock_and_verify([p for p in plan if p.row])
        by_action: dict[str, list[Planned]] = {}
        for p in plan:
            by_action.setdefault(p.action, []).append(p)
        fresh = by_action.get(CREATE, []) + by_action.get(REPLACE, [])
        if fresh:
            customers = customers_upsert(channel=self.channel, records=[p.record for p in fresh])
            self.lookup.load(line.sku for p in fresh for line in p.record.lines)
            self.lookup.ensure_listings(line for p in fresh for line in p.record.lines)
            self._create(by_action.get(CREATE, []), customers, now)
            self._replace(by_action.get(REPLACE, []), customers, now)
        self._follow(plan, now)

    def _lock_and_verify(self, plan: list[Planned]) -> None:
        """Lock the orders about to change (PostgreSQL) and check nobody wrote them since they were read."""
        if not plan:
            return
        ids = [p.row["id"] for p in plan]
        # A submission claiming the order since it was read changes what a cancellation may do (cancels_here).
        rows = Order.objects.select_for_update().filter(pk__in=ids).values_list("id", "content_hash", "submitting_at")
        current = {pk: (content_hash, submitting_at) for pk, content_hash, submitting_at in rows}
        if any(current.get(p.row["id"]) != (p.row["content_hash"], p.row.get("submitting_at")) for p in plan):
            raise _Stale("an order changed while this download was writing it")

    def _create(self, plan: list[Planned], customers: dict[str, int], now: datetime) -> None:
        if not plan:
            return
        rows_insert(
            [
                {
                    "channel_id": self.channel.pk,
                    "external_id": p.record.external_id,
                    "customer_id": customers.get(_customer_key(p.record)),
                    "status": OrderStatus.DOWNLOADED,
                    "created_at": now,
                    **order_fields(p.record, p.hashes, now=now),
                }
                for p in plan
            ],
            model=Order,
        )
        keys = [p.record.external_id for p in plan]
        created = Order.objects.filter(channel=self.channel, external_id__among=keys).order_by()  # as in _plan
        ids = dict(created.values_list("external_id", "id"))
        self._lines([ids[key] for key in keys], [p.record for p in plan])

    def _replace(
        self, plan: list[Planned], customers: dict[str, int], now: datetime, *, message: str = "", user: Any = None
    ) -> None:
        """Orders not yet submitted follow the channel: columns updated, lines replaced."""
        if not plan:
            return
        orders = []
        for p in plan:
            order = Order(pk=p.row["id"], customer_id=customers.get(_customer_key(p.record)))
            for name, value in order_fields(p.record, p.hashes, now=now).items():
                setattr(order, name, value)
            # A submission was already sent (its answer unknown): what the fulfillment system has may differ.
            order.changed_after_submit = p.row["changed_after_submit"] or p.row["submit_attempts"] > 0
            orders.append(order)
        Order.objects.bulk_update(orders, [*REPLACED_FIELDS, "customer", "changed_after_submit"])
        OrderLine.objects.filter(order_id__in=[o.pk for o in orders]).delete()
        self._lines([o.pk for o in orders], [p.record for p in plan])
        self._events(plan, EventKind.CHANGED, message or CHANGED_BEFORE_SUBMIT, now, user=user)
        # A failed order being resubmitted right now keeps its status: the submission moves it.
        failed = [
            Order(pk=p.row["id"], status=p.row["status"])
            for p in plan
            if p.row["status"] == OrderStatus.FAILED and not p.row.get("submitting_at")
        ]
        orders_transition(
            orders=failed,
            to=OrderStatus.DOWNLOADED,
            user=user,
            message="Changed on the channel; submission will be tried again.",
            fields={"next_attempt_at": None, "first_failure_at": None, "last_error": ""},
        )

    def _lines(self, order_ids: list[int], records: list[OrderRecord]) -> None:
        groups = []
        for order_id, record in zip(order_ids, records, strict=True):
            groups.extend(build_lines(order_id=order_id, records=record.lines, lookup=self.lookup))
        lines_save(groups)
        # A warehouse an order line names (NuORDER) becomes a channel warehouse the first time it is seen.
        names = {str(line.attributes.get("warehouse") or "") for record in records for line in record.lines}
        channel_warehouses_seen(channel_id=self.channel.pk, names=names)

    def _follow(self, plan: list[Planned], now: datetime) -> None:
        """Orders already with the fulfillment system: the channel's number and status follow; content does not."""
        follow = [p for p in plan if p.action in (FLAG, TOUCH, CANCEL_LOCAL, CANCEL_REMOTE)]
        if not follow:
            return
        orders = []
        for p in follow:
            order = Order(pk=p.row["id"], status=p.row["status"])
            fields = order_fields(p.record, p.hashes, now=now)
            for name in INFO_FIELDS:
                setattr(order, name, fields[name])
            order.changed_after_submit = p.row["changed_after_submit"] or p.action == FLAG
            order.cancel_requested = p.row["cancel_requested"] or p.action == CANCEL_REMOTE
            orders.append(order)
        Order.objects.bulk_update(orders, FLAG_FIELDS)
        flagged = [p for p in follow if p.action == FLAG]
        self._events(flagged, EventKind.CHANGED, CHANGED_AFTER_SUBMIT, now)
        cancelled = [o for o, p in zip(orders, follow, strict=True) if p.action == CANCEL_LOCAL]
        orders_transition(orders=cancelled, to=OrderStatus.CANCELLED, message=CANCELLED_HERE)
        for order, p in zip(orders, follow, strict=True):
            if p.action == CANCEL_REMOTE and order.status in LOCKED:
                order.external_id = p.record.external_id
                cancel_kept(order=order, report=self.report, first_time=not p.row["cancel_requested"])

    def _events(self, plan: list[Planned], kind: str, message: str, now: datetime, user: Any = None) -> None:
        OrderEvent.objects.bulk_create(
            OrderEvent(order_id=p.row["id"], kind=kind, message=message, created_at=now, user=user) for p in plan
        )

    def refresh(self, order: Order, record: OrderRecord, *, user: Any = None) -> None:
        """Replace one order's content and lines with a fresh record, whatever its status (for resubmit)."""
        problem = record_problem(record)
        if problem:
            raise ValueError(f"the channel's copy of the order cannot be used: {problem}")
        row = {"id": order.pk, "status": order.status, "changed_after_submit": False}
        row.update(submit_attempts=order.submit_attempts, content_hash=order.content_hash)
        plan = [Planned(record, REPLACE, record_hashes(record), row)]
        now = timezone.now()
        with transaction.atomic():
            self._lock_and_verify(plan)
            customers = customers_upsert(channel=self.channel, records=[record])
            self.lookup.load(line.sku for line in record.lines)
            self.lookup.ensure_listings(record.lines)
            self._replace(plan, customers, now, message="Fetched fresh from the channel to resubmit.", user=user)
            Order.objects.filter(pk=order.pk).update(cancel_requested=False)


CHANGED_BEFORE_SUBMIT = "Changed on the channel before submission; lines replaced."
CHANGED_AFTER_SUBMIT = (
    "Changed on the channel after it was submitted. The fulfillment system takes no updates: "
    "delete and resubmit it to apply the change."
)


def _customer_key(record: OrderRecord) -> str | None:
    ref = customer_ref(record)
    return ref.external_id[:100] if ref else None


def order_refresh(*, order: Order, record: OrderRecord, user: Any = None) -> None:
    """Replace an order's content and lines with a fresh copy from the channel, re-mapped and re-split."""
    OrderIngest(channel=order.channel, report=RunReport(flow="orders.resubmit")).refresh(order, record, user=user)
