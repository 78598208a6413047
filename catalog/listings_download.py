"""catalog.download from a sales channel that lists products (ChannelAdvisor, Extensiv): listings upserted as
ItemMapping rows on (channel, channel SKU) with product id, UPC, title and data (images, attributes, aliases),
set-based in chunks, and auto-mapped in the same run.

The upsert writes only the listing's own fields, so the item, method and status of a mapping a person made or
imported stay as they are. A new listing is auto-mapped as it is inserted (the item index is loaded once per
run). A changed one is flagged `automap_pending`; the run's last transaction auto-maps the flagged rows, sends
their conflicts to the issue queue, clears the flag and moves the cursor (listings come ordered by id, not by
date, so the cursor can only move once all of them are in). A run that dies before then leaves its rows
flagged for the next one.

A listing without a product id, or with another id than the one stored (or seen earlier in the run), has its
id looked up by SKU; when the SKU is not unique on the channel the id is refused: the listing is stored
without one, marked a conflict (unless a person mapped or ignored it) and sent to the issue queue.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models.functions import Trim, Upper

from catalog.automap import Decision, ItemIndex, case_twins, mapping_automap
from catalog.keys import listing_variant
from catalog.models import PROTECTED_METHODS, ItemMapping, MappingStatus
from catalog.sync_common import FLOW, say
from integrations.bulk import upsert
from integrations.chunks import batched
from integrations.connectors import connector_class
from integrations.connectors.records import BadRecord, Listing
from integrations.cursors import cursor_advance
from integrations.flows import RunReport
from integrations.http import AuthFailed, ChannelError
from integrations.models import Channel, SyncIssue

CHUNK = 2000
LISTING_FIELDS = ["channel_product_id", "channel_upc", "title", "data"]
DECISION_FIELDS = ["item", "method", "status", "suggested_item", "note"]
COLUMNS = ("channel_id", "channel_sku", *LISTING_FIELDS, "automap_pending", "item_id", "method", "status", "note")
UNDECIDED = Decision(None, "", MappingStatus.UNMAPPED, "")
AMBIGUOUS = "auto-mapping found more than one item"  # issue messages, read back to resolve them
NOT_UNIQUE = "is not unique on the channel"
ProductIdLookup = Callable[[str], list[str]]
_LIMITS = {
    name: ItemMapping._meta.get_field(name).max_length for name in ("channel_sku", "channel_product_id", "channel_upc")
}


@dataclass
class ListingsRun:
    channel: Channel
    report: RunReport
    dry_run: bool
    lookup: ProductIdLookup | None
    open_keys: set[str]
    latest: datetime | None = None
    product_ids: dict[str, str] = field(default_factory=dict)  # SKU -> product id, as seen in this run
    index: ItemIndex | None = None
    exact: bool | None = None  # the channel's SKUs are case-sensitive (its connector class), looked up once


NEW, CHANGED, REFUSED = "new", "changed", "refused"  # refused: a SKU not unique on the channel, no product id


@dataclass
class Planned:
    """One listing to write, and which of the three upserts writes it."""

    row: tuple
    kind: str


def listings_download(
    *,
    channel: Channel,
    records: Iterable[Listing | BadRecord],
    lookup: ProductIdLookup | None,
    report: RunReport,
    dry_run: bool,
    open_keys: Iterable[str] = (),
    chunk_size: int = CHUNK,
) -> None:
    """Upsert a channel's listings in chunks, then auto-map the new and changed ones and move the cursor."""
    run = ListingsRun(channel=channel, report=report, dry_run=dry_run, lookup=lookup, open_keys=set(open_keys))
    _settled(run)
    if not dry_run:
        _leftovers_counted(channel, report)
    for chunk in batched(records, chunk_size):
        with transaction.atomic():
            _chunk(run, chunk)
    if not dry_run:
        _flag_case_twins(channel, report)
        listings_automap(channel=channel, report=report, open_keys=run.open_keys, position=run.latest)


def _flag_case_twins(channel: Channel, report: RunReport) -> None:
    """Where SKUs are case-sensitive, listings differing only by case (`abc-1` beside `ABC-1`) are auto-mapped
    again with the whole channel in view, which makes them conflicts unless one equals an item's pattern. The
    ones this run had not flagged count as this run's (updated), as left-over flags do."""
    if not connector_class(channel.kind).sku_case_sensitive:
        return
    keys = [key for _, key in case_twins(channel_ids=[channel.pk])]
    if not keys:
        return
    twins = ItemMapping.objects.filter(channel=channel, automap_pending=False).annotate(key=Upper(Trim("channel_sku")))
    twins = twins.filter(key__in=keys).exclude(status=MappingStatus.CONFLICT).values("pk")
    flagged = ItemMapping.objects.filter(pk__in=twins).update(automap_pending=True)
    if flagged:
        report.seen, report.updated = report.seen + flagged, report.updated + flagged
        report.note(f"{flagged} listing(s) with a case twin on the channel were auto-mapped again")


def listings_automap(
    *, channel: Channel, report: RunReport, open_keys: set[str], position: datetime | None = None
) -> None:
    """Auto-map the channel's flagged listings; then, in one transaction, queue their conflicts as issues,
    clear the flags and move the cursor to `position`. Auto-mapping twice is harmless, so a crash between
    the two steps costs only a second pass on the next run."""
    pending = ItemMapping.objects.filter(channel=channel, automap_pending=True)
    if pending.exists():
        mapping_automap(mappings=pending)
    with transaction.atomic():
        for sku, status, note in pending.values_list("channel_sku", "status", "note").iterator(CHUNK):
            if status == MappingStatus.CONFLICT:
                # Counted updated when flagged (in this run, or by _leftovers_counted): stored, but in conflict.
                report.issue(sku, f"{AMBIGUOUS}: {note}", {"channel_sku": sku}, counted_as="updated")
            elif sku in open_keys:
                report.succeeded(sku)
        pending.update(automap_pending=False)
        if position:
            cursor_advance(channel=channel, flow=FLOW, position=position)


def _leftovers_counted(channel: Channel, report: RunReport) -> None:
    """Listings a run that died left flagged are auto-mapped in this run: count them as this run's, so each
    flagged listing the auto-mapping pass sees has been counted once (updated) before it meets a conflict."""
    leftovers = ItemMapping.objects.filter(channel=channel, automap_pending=True).count()
    if leftovers:
        report.seen, report.updated = report.seen + leftovers, report.updated + leftovers
        report.note(f"{leftovers} listing(s) left flagged by an interrupted run were auto-mapped again")


def _settled(run: ListingsRun) -> None:
    """Resolve the issues of listings a person has since settled on the mapping screen, even when the channel
    has not changed them: an ambiguous listing now mapped (or ignored), a non-unique SKU now with a product id."""
    issues = SyncIssue.objects.filter(channel=run.channel, flow=FLOW, status=SyncIssue.Status.OPEN)
    messages = dict(issues.values_list("record_key", "message"))
    keys = sorted(messages)
    for start in range(0, len(keys), 500):
        rows = ItemMapping.objects.filter(channel=run.channel, channel_sku__in=keys[start : start + 500])
        for sku, status, product_id in rows.values_list("channel_sku", "status", "channel_product_id"):
            if status == MappingStatus.CONFLICT:
                continue
            if messages[sku].startswith(AMBIGUOUS) or (NOT_UNIQUE in messages[sku] and product_id):
                run.report.succeeded(sku)


def _chunk(run: ListingsRun, chunk: tuple[Listing | BadRecord, ...]) -> None:
    run.report.seen += len(chunk)
    records = _usable(run, chunk)
    existing = {
        row[0]: row
        for row in ItemMapping.objects.filter(channel=run.channel, channel_sku__among=list(records))
        .values_list("channel_sku", *LISTING_FIELDS, "method", "status")
        .iterator(CHUNK)
    }
    planned = []
    for sku, record in records.items():
        row = existing.get(sku)
        failed_before = run.report.failed
        product_id, refused, lookup_failed = _product_id(run, record, row[1] if row else None)
        values = (product_id, record.upc, record.title[:300], record.data)
        if refused:
            planned.append(_refused(run, record, values, row, refused))
        elif row is None:
            planned.append(_new(run, sku, values))
        elif tuple(row[1:5]) != values:
            planned.append(Planned(_row(run.channel, sku, values, pending=True), CHANGED))
            _count(run.report, sku, new=False)
        else:
            run.report.skipped += 1
            if sku in run.open_keys and row[6] != MappingStatus.CONFLICT and not lookup_failed:
                run.report.succeeded(sku)
        if lookup_failed:
            bucket = "skipped" if row is not None and not refused and tuple(row[1:5]) == values else ""
            bucket = bucket or ("created" if row is None else "updated")
            _lookup_failed(run, record, lookup_failed, bucket, failed=run.report.failed > failed_before)
    if not run.dry_run:
        _write(planned)


def _new(run: ListingsRun, sku: str, values: tuple) -> Planned:
    """A listing the hub has never seen, auto-mapped as it is inserted (nothing a person decided can be lost)."""
    _count(run.report, sku, new=True)
    if run.exact is None:
        run.exact = connector_class(run.channel.kind).sku_case_sensitive
    exact = run.exact
    if run.index is None:
        run.index = ItemIndex.load(exact=exact)  # once per run, and only when something new arrives
    decision = run.index.decide(sku, values[1], case_sensitive=exact, variant=listing_variant(values[3]))
    row = _row(run.channel, sku, values, pending=False, decision=decision)
    if decision.status == MappingStatus.CONFLICT:
        run.report.issue(sku, f"{AMBIGUOUS}: {decision.note}", {"channel_sku": sku}, counted_as="created")
    elif sku in run.open_keys:
        run.report.succeeded(sku)
    return Planned(row, NEW)


def _usable(run: ListingsRun, chunk: tuple[Listing | BadRecord, ...]) -> dict[str, Listing]:
    """The chunk's listings by SKU (the last of a repeated SKU wins); unreadable ones go to the issue queue."""
    records: dict[str, Listing] = {}
    for record in chunk:
        if isinstance(record, BadRecord):
            run.report.issue(record.external_id or "listing", record.reason, record.raw)
            continue
        if record.updated_at and (run.latest is None or record.updated_at > run.latest):
            run.latest = record.updated_at
        problem = _problem(record)
        if problem:
            run.report.issue(record.sku or "listing", problem, _payload(record))
            continue
        if record.sku in records:
            run.report.skipped += 1  # the earlier copy of a repeated SKU: the last one is the one counted
            if records[record.sku].product_id != record.product_id:
                run.product_ids.setdefault(record.sku, records[record.sku].product_id)
        records[record.sku] = record
    return records


def _problem(record: Listing) -> str:
    if not record.sku.strip():
        return "the listing has no SKU"
    for name, value in (("channel_sku", record.sku), ("channel_product_id", record.product_id)):
        if len(value) > _LIMITS[name]:
            return f"{name} is longer than {_LIMITS[name]} characters: {value[:40]}…"
    if len(record.upc) > _LIMITS["channel_upc"]:
        return f"the UPC is not a UPC: {record.upc[:40]}"
    return ""


def _product_id(run: ListingsRun, record: Listing, stored: str | None) -> tuple[str, str, str]:
    """(the product id to store, why it was refused, why the look-up failed), the last two "" when they did not
    happen. The id is trusted as it comes unless it is missing or differs from the one stored (an empty one
    included: it may have been refused) or seen earlier in the run; then the channel is asked which products
    have the SKU."""
    seen = run.product_ids.get(record.sku)
    run.product_ids[record.sku] = record.product_id
    differs = (stored is not None and stored != record.product_id) or (seen and seen != record.product_id)
    if record.product_id and not differs:
        return record.product_id, "", ""
    if run.lookup is None:
        return record.product_id, "", ""
    try:
        ids = sorted(set(run.lookup(record.sku)))
    except AuthFailed:
        raise
    except ChannelError as exc:
        return stored or record.product_id, "", f"looking up the product id of SKU {record.sku} failed: {exc}"
    if len(ids) > 1:
        return "", f"SKU {record.sku} {NOT_UNIQUE} (products {', '.join(ids)}): no product id stored", ""
    return (ids[0] if ids else record.product_id), "", ""


def _lookup_failed(run: ListingsRun, record: Listing, reason: str, bucket: str, *, failed: bool) -> None:
    """The listing was stored with the id it had; its issue moves it from the count it got (`bucket`) to failed,
    unless another issue of the same listing already did (`failed`): one listing, one count."""
    if failed:
        run.report.flag(record.sku, reason, _payload(record))
    else:
        run.report.issue(record.sku, reason, _payload(record), counted_as=bucket)


def _refused(run: ListingsRun, record: Listing, values: tuple, row: tuple | None, reason: str) -> Planned:
    """A listing whose SKU is not unique: stored without a product id and a conflict, unless a person decided
    it; then the decision and the product id it has stand (a person may have typed it in), and only a listing
    left without one goes to the issue queue."""
    counted = _count(run.report, record.sku, new=row is None)
    if row is not None and (row[5] in PROTECTED_METHODS or row[6] == MappingStatus.IGNORED):
        if not row[1]:
            run.report.issue(record.sku, reason, _payload(record), counted_as=counted)
        return Planned(_row(run.channel, record.sku, (row[1], *values[1:]), pending=False), CHANGED)
    run.report.issue(record.sku, reason, _payload(record), counted_as=counted)
    conflict = Decision(None, "", MappingStatus.CONFLICT, reason)
    return Planned(_row(run.channel, record.sku, values, pending=False, decision=conflict), REFUSED)


def _row(channel: Channel, sku: str, values: tuple, *, pending: bool, decision: Decision = UNDECIDED) -> tuple:
    """The row's values in COLUMNS order."""
    return (channel.pk, sku, *values, pending, decision.item_id, decision.method, decision.status, decision.note)


def _count(report: RunReport, sku: str, *, new: bool) -> str:
    """Count the listing created or updated; the name of the count."""
    if new:
        report.created += 1
        say(report, f"create listing {sku}")
        return "created"
    report.updated += 1
    say(report, f"update listing {sku}")
    return "updated"


def _write(planned: list[Planned]) -> None:
    """One upsert per kind of row. A new row carries its auto-mapping decision; should the row have appeared
    since it was read (an order download met the SKU first and auto-mapped it), the upsert gives it the listing's
    fields and leaves that decision alone. A changed row is flagged for the run's auto-mapping pass."""
    fields = {
        NEW: LISTING_FIELDS,
        CHANGED: [*LISTING_FIELDS, "automap_pending"],
        REFUSED: [*LISTING_FIELDS, "automap_pending", *DECISION_FIELDS],
    }
    for kind, update in fields.items():
        rows = [p.row for p in planned if p.kind == kind]
        upsert(ItemMapping, columns=COLUMNS, rows=rows, unique=["channel", "channel_sku"], update=update)


def _payload(record: Listing) -> dict[str, Any]:
    return {"sku": record.sku, "product_id": record.product_id, "upc": record.upc, "title": record.title}
