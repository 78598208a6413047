"""inventory.upload: settle what is unsettled, compute, diff against the ledger, record the pushes, send them
(inline, or fanned out to django-q2 chunk tasks when there are many)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from integrations.bulk import insert_ids
from integrations.chunks import batched_groups
from integrations.connectors.capabilities import QuantitySink
from integrations.flows import RunReport
from inventory.breakdown import reason_short
from inventory.ledger import Key, channel_quantities, ledger_for, ledger_write
from inventory.models import PushIntent
from inventory.policies import Rules
from inventory.pushes import (
    Queued,
    claimed_fields,
    intents_push,
    intents_queued,
    intents_settle,
    intents_supersede,
    new_claim,
)
from inventory.quantities import Calculation, ListingQuantity, quantities_compute

CHUNK_TASK = "inventory.tasks.inventory_push_chunk"
INTENT_COLUMNS = ("mapping_id", "channel_warehouse_id", "mode", "quantity", "delta", "base", "incoming")
DRY_RUN_LINES = 200
NO_TARGETS = (
    "no channel warehouse of this channel is paired with a warehouse: pair them (Inventory → Warehouse pairing)"
)
NO_BASELINE = "a relative push needs the channel's current quantity, and the channel reports none for this listing"


@dataclass(frozen=True)
class Change:
    row: ListingQuantity
    previous: int | None  # the ledger's (or the channel's) quantity before this push

    @property
    def key(self) -> Key:
        return (self.row.listing.mapping_id, self.row.target.id)

    @property
    def record_key(self) -> str:
        return f"{self.row.listing.sku}@{self.row.target.external_id}"


def intents_forget(*, channel_id: int) -> int:
    """Delete settled push intents older than the retention (default 7 days); the ledger keeps the outcome."""
    days = int(getattr(settings, "INVENTORY_INTENT_RETENTION_DAYS", 7))
    settled = (PushIntent.State.SENT, PushIntent.State.FAILED, PushIntent.State.SUPERSEDED)
    old = PushIntent.objects.filter(
        channel_warehouse__channel_id=channel_id,
        state__in=settled,
        created_at__lt=timezone.now() - timedelta(days=days),
    )
    return PushIntent.objects.filter(id__in=old.values("id")).delete()[0]


def fanout_listings() -> int:
    """Above this many changed listings, the push is split into chunk tasks."""
    return int(getattr(settings, "INVENTORY_FANOUT_LISTINGS", 2000))


def chunk_listings() -> int:
    """Listings per chunk task: large enough (1,000+ by default) that queueing costs little beside the push."""
    return int(getattr(settings, "INVENTORY_CHUNK_LISTINGS", 1000))


def inventory_upload_run(
    *,
    channel_id: int,
    rules: Rules,
    connector: QuantitySink,
    report: RunReport,
    dry_run: bool = False,
    mapping_ids: Iterable[int] | None = None,
) -> list[str]:
    """Push every listing whose quantity changed since the channel last accepted one; the chunk task ids."""
    blocked = intents_settle(channel_id=channel_id, connector=connector, report=report, dry_run=dry_run)
    mapping_ids = None if mapping_ids is None else list(mapping_ids)
    queued = intents_queued(channel_id=channel_id, mapping_ids=mapping_ids)
    calculation = quantities_compute(rules=rules, mapping_ids=mapping_ids)
    if not any(not target.retired for target in calculation.targets):
        report.issue("warehouse pairing", NO_TARGETS)
        if not calculation.targets:
            return []
    changes, unknown, kept = changes_diff(calculation, ledger_for(channel_id=channel_id), blocked, report, queued)
    if kept:
        report.note(f"{len(kept)} push(es) queued by an earlier run still hold: left to its chunk tasks")
    if unknown:
        changes += _with_baseline(channel_id, connector, unknown, report, dry_run)
    if dry_run:
        _say_changes(calculation, changes, rules, report)
        return []
    changes = _replacing(queued, kept, changes, report)
    intents_forget(channel_id=channel_id)
    listings = len({change.key[0] for change in changes})
    if listings <= fanout_listings() or not connector.push_fans_out:
        # Sent here: recorded already claimed by this run (a chunk task claims its own, once, when it starts).
        claim = new_claim()
        intents_record(changes, rules, claim=claim)
        intents_push(channel_id=channel_id, claim=claim, connector=connector, report=report)
        return []
    return _fan_out(channel_id, changes, intents_record(changes, rules), report)


def changes_diff(
    calculation: Calculation,
    ledger: dict,
    blocked: set[Key],
    report: RunReport,
    queued: Mapping[Key, Queued] | None = None,
) -> tuple[list[Change], list[ListingQuantity], set[Key]]:
    """What changed against the ledger; (relative mode) the listings never pushed, which need a baseline; and
    the listings whose push queued by an earlier run still holds (left to its chunk task, not recorded again)."""
    relative = calculation.rules.relative
    changes, unknown, kept = [], [], set()
    queued = queued or {}
    for row in calculation.quantities():
        key = (row.listing.mapping_id, row.target.id)
        previous = ledger.get(key)
        if row.target.retired and previous is None:
            continue  # never pushed there: nothing of ours to take back
        report.seen += 1
        waiting = queued.get(key)
        if key in blocked:
            report.unknown += 1  # an earlier push of this listing is still of unknown outcome: nothing sent
        elif waiting is not None and waiting.holds(row.quantity, row.wip, None if previous is None else previous[0]):
            kept.add(key)
            report.skipped += 1
        elif previous == (row.quantity, row.wip):
            report.skipped += 1
        elif previous is None and relative:
            unknown.append(row)
        else:
            changes.append(Change(row, None if previous is None else previous[0]))
    return changes, unknown, kept


def _replacing(queued: Mapping[Key, Queued], kept: set[Key], changes: list[Change], report: RunReport) -> list[Change]:
    """Supersede the queued pushes this computation replaces; the changes to record. A replaced push that a
    chunk claimed meanwhile is being sent: its listing waits for the next run, as one of unknown outcome does."""
    replaced = {key: waiting.id for key, waiting in queued.items() if key not in kept}
    if not replaced:
        return changes
    superseded = intents_supersede(replaced.values())
    claimed = {key for key, pk in replaced.items() if pk not in superseded}
    if not claimed:
        return changes
    report.unknown += sum(1 for change in changes if change.key in claimed)
    return [change for change in changes if change.key not in claimed]


def _with_baseline(
    channel_id: int, connector: QuantitySink, rows: list[ListingQuantity], report: RunReport, dry_run: bool
) -> list[Change]:
    """Relative channels: read what the channel has for never-pushed listings; the delta starts from there."""
    keys = {(row.listing.mapping_id, row.target.id): row for row in rows}
    found = channel_quantities(connector=connector, channel_id=channel_id, keys=keys)
    if not dry_run:
        ledger_write({key: (quantity, ()) for key, quantity in found.items()})
    changes = []
    for key, row in keys.items():
        if key not in found:
            report.issue(f"{row.listing.sku}@{row.target.external_id}", NO_BASELINE)
        elif found[key] == row.quantity:
            report.skipped += 1
        else:
            changes.append(Change(row, found[key]))
    return changes


def intents_record(changes: list[Change], rules: Rules, *, claim: str = "") -> list[int]:
    """Write one intent per change, before anything is sent: pending, or already claimed under `claim` by the
    caller, which sends them; their ids, in the changes' order."""
    claimed = claimed_fields(claim) if claim else {"state": PushIntent.State.PENDING.value}
    extra = (*claimed.values(), 1 if claim else 0)
    rows = [
        (
            change.key[0],
            change.key[1],
            rules.push_mode,
            change.row.quantity,
            change.row.quantity - change.previous if rules.relative else None,  # type: ignore[operator]  # NO_BASELINE
            change.previous,
            [list(bucket) for bucket in change.row.wip],
            *extra,
        )
        for change in changes
    ]
    with transaction.atomic():
        return insert_ids(PushIntent, columns=(*INTENT_COLUMNS, *claimed, "attempts"), rows=rows)


def _fan_out(channel_id: int, changes: list[Change], ids: list[int], report: RunReport) -> list[str]:
    by_listing: dict[int, list[int]] = {}
    products: dict[str, set[int]] = {}  # listings naming one channel product go in one chunk: one write for it
    for change, pk in zip(changes, ids, strict=True):
        by_listing.setdefault(change.key[0], []).append(pk)
        products.setdefault(change.row.listing.product_id or change.row.listing.sku, set()).add(change.key[0])
    groups = sorted(sorted(listings) for listings in products.values())
    tasks = []
    for number, listings in enumerate(batched_groups(groups, chunk_listings()), start=1):
        chunk = [pk for mapping_id in listings for pk in by_listing[mapping_id]]
        tasks.append(async_task(CHUNK_TASK, channel_id, chunk, task_name=f"inventory push {channel_id}/{number}"))
    queued = f"{len(ids)} push(es) for {len(by_listing)} listings queued as {len(tasks)} chunk task(s)"
    report.say(queued)
    report.note(f"{queued}: their outcomes are in the chunk runs")
    return tasks


def _say_changes(calculation: Calculation, changes: list[Change], rules: Rules, report: RunReport) -> None:
    report.say(f"{len(changes)} quantity push(es) would be sent ({rules.push_mode})")
    for change in changes[:DRY_RUN_LINES]:
        quantity, previous = change.row.quantity, change.previous
        was = "never pushed" if previous is None else f"was {previous}"
        send = f"adjust {quantity - previous:+d}" if rules.relative and previous is not None else f"set {quantity}"
        why = reason_short(calculation, change.row)
        report.say(f"{change.record_key}: {send} ({was}) — {why}")
    if len(changes) > DRY_RUN_LINES:
        report.say(f"… and {len(changes) - DRY_RUN_LINES} more")
