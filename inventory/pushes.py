"""The push outbox: every quantity push is a PushIntent written before it is sent and settled after.

States: pending (recorded) → sending (claimed by one sender; an upload that sends its pushes itself records
them already claimed, one write less per push) → sent (the channel accepted it; the ledger is
written in the same transaction) or failed (refused, or never reached the channel) or unknown (no answer after
the request went out). An unknown push — or one left `sending` by a crashed worker — is settled by reading the
channel's quantity before anything more is sent for that listing. A `sending` push counts as left behind once
its claim is stale (the task timeout), or at once when its sender is known dead: the claim names the sender's
process (host, pid, start time, as a SQLite lease does), and a process of this machine that is gone cannot be
sending any more; past HTTP_READ_TIMEOUT after the claim its last request is no longer in flight either, so the
channel's figure is final. The next run says "the last run died" in its note. Then: the ledger takes the channel's figure, so the
next delta is computed from what the channel really has and no adjustment is ever applied twice. A unique
constraint keeps one unsettled intent per listing and channel warehouse.
"""

import contextlib
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from integrations.chunks import batched, batched_groups
from integrations.connectors.capabilities import QuantitySink
from integrations.connectors.records import QuantityResult, QuantityUpdate
from integrations.cursors import holder_alive, lease_holder
from integrations.flows import RunReport
from integrations.http import AuthFailed, ChannelError
from integrations.selectors import open_issue_keys
from inventory.ledger import Key, channel_quantities, ledger_write
from inventory.models import PushIntent

State = PushIntent.State
CLAIM_CHUNK = 500  # ids per statement: well under SQLite's bound-parameter limit
INTENT_FIELDS = (
    "id",
    "mapping_id",
    "channel_warehouse_id",
    "mode",
    "quantity",
    "delta",
    "base",
    "incoming",
    "mapping__channel_sku",
    "mapping__channel_product_id",
    "mapping__channel_upc",
    "mapping__item__size",
    "mapping__item__upc",
    "channel_warehouse__external_id",
)


@dataclass(frozen=True)
class Intent:
    """A claimed intent with what the connector needs to send it."""

    id: int
    key: Key
    mode: str
    quantity: int
    delta: int | None
    base: int | None
    incoming: tuple[tuple[str, int], ...]
    sku: str
    product_id: str
    upc: str
    size: str
    warehouse_id: str

    @property
    def record_key(self) -> str:
        return f"{self.sku}@{self.warehouse_id}"

    def update(self) -> QuantityUpdate:
        relative = self.mode == "relative"
        return QuantityUpdate(
            sku=self.sku,
            warehouse_id=self.warehouse_id,
            quantity=cast(int, self.delta) if relative else self.quantity,  # a relative intent always has its delta
            mode="relative" if relative else "absolute",
            product_id=self.product_id,
            size=self.size,
            upc=self.upc,
            incoming=tuple((date.fromisoformat(day), qty) for day, qty in self.incoming),
        )


def stale_after() -> timedelta:
    """How long a claimed push may stay `sending` before its sender is presumed dead (the task timeout)."""
    seconds = getattr(settings, "INVENTORY_SENDING_STALE_SECONDS", None)
    return timedelta(seconds=seconds if seconds is not None else int(settings.Q_CLUSTER.get("timeout") or 1800))


def intents_push(
    *,
    channel_id: int,
    connector: QuantitySink,
    report: RunReport,
    intent_ids: Sequence[int] = (),
    claim: str = "",
) -> None:
    """Claim the pending intents (or take those recorded under `claim`, already this sender's), send them in the
    connector's batch size, and settle each batch."""
    claim = claim or intents_claim(intent_ids)
    intents = list(_claimed(claim))
    batch_size = max(1, connector.push_batch_size)
    open_keys = open_issue_keys(channel_id=channel_id, flow=report.flow)
    unknown_before = report.unknown
    done = 0
    for batch in product_batches(intents, batch_size):
        done += len(batch)
        try:
            results = connector.quantities_push([intent.update() for intent in batch])
        except ChannelError as exc:
            # A batch may be several calls (one per product): some may have been applied before the error,
            # so the whole batch is of unknown outcome and the channel is read before anything more is sent.
            _mark_unknown(batch, str(exc))
            report.unknown += len(batch)
            if isinstance(exc, AuthFailed):
                _settle_failed(intents[done:], f"not sent: {exc}", report)
                raise
            continue
        _settle_results(batch, results, report, open_keys)
    if report.unknown > unknown_before:
        # If the read fails too, the next run settles them before it sends anything for those listings.
        with contextlib.suppress(ChannelError):
            intents_settle(channel_id=channel_id, connector=connector, report=report, claim=claim)
    if left := report.unknown - unknown_before:
        report.note(f"{left} push(es) of unknown outcome: the next run reads the channel before sending more")


def product_batches(intents: Sequence[Intent], size: int) -> Iterator[list[Intent]]:
    """The intents in batches of about `size`, those naming the same channel product (its id, else its SKU)
    always in the same batch: the connector then sends a product one write, even when several listings name it
    (a product whose SKU changed on the channel keeps its old listing too)."""
    by_product: dict[str, list[Intent]] = {}
    for intent in intents:
        by_product.setdefault(intent.product_id or intent.sku, []).append(intent)
    return batched_groups(by_product.values(), size)


def new_claim() -> str:
    """A claim token: the intents claimed under it are sent by one sender only."""
    return uuid.uuid4().hex


def claimed_fields(claim: str) -> dict[str, Any]:
    """What a claim writes on an intent: `sending`, the token, its sender's process, when, one more attempt."""
    return {"state": State.SENDING.value, "claim": claim, "claimed_by": lease_holder(), "sent_at": timezone.now()}


def intents_claim(intent_ids: Iterable[int]) -> str:
    """Move pending intents to `sending` under one claim token; only this sender sends them."""
    claim = new_claim()
    fields = claimed_fields(claim)
    ids = sorted(set(intent_ids))
    with transaction.atomic():
        for chunk in batched(ids, CLAIM_CHUNK):
            pending = _lock_states(chunk, (State.PENDING,))
            PushIntent.objects.filter(id__in=pending).update(**fields, attempts=F("attempts") + 1)
    return claim


def _lock_in_id_order(rows: QuerySet[PushIntent]) -> None:
    """Lock the rows in id order (PostgreSQL), before a statement that updates several of them.

    An UPDATE locks its rows in the order its plan meets them: a chunk's claim through an index, the next run's
    supersede of the channel's pending intents through a hash of their ids. Two workers on the same rows in two
    orders each hold one the other waits for (`deadlock detected`, seen with two clusters); in one order, the
    later one holds nothing while it waits. SQLite runs one writing transaction at a time: nothing to order.
    """
    if connection.features.has_select_for_update:
        list(rows.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))


def _lock_ids(ids: Iterable[int]) -> None:
    """`_lock_in_id_order` for these intents, in chunks of ascending ids (inside the caller's transaction)."""
    for chunk in batched(sorted(ids), CLAIM_CHUNK):
        _lock_in_id_order(PushIntent.objects.filter(id__in=chunk))


def _lock_unsettled(ids: Iterable[int]) -> set[int]:
    """Lock these intents in id order (inside the caller's transaction); those still unsettled once held."""
    unsettled: set[int] = set()
    for chunk in batched(sorted(ids), CLAIM_CHUNK):
        unsettled.update(_lock_states(chunk, PushIntent.UNSETTLED))
    return unsettled


def _lock_states(ids: Sequence[int], states: Iterable[str]) -> list[int]:
    """Lock these intents in id order (inside the caller's transaction); those in `states` once held.

    The rows are found by id alone and their state is checked here: with `state IN (…)` in the statement,
    PostgreSQL's planner took the state index (its statistics lag a fan-out's thousands of new pending rows)
    and read every pending intent for each 500 ids, 40 ms a chunk at full size, the day bench's largest query.
    """
    rows = PushIntent.objects.filter(id__in=ids)
    if connection.features.has_select_for_update:
        rows = rows.select_for_update(of=("self",)).order_by("pk")
    wanted = set(states)
    return [pk for pk, state in rows.values_list("pk", "state") if state in wanted]


def _claimed(claim: str) -> Iterator[Intent]:
    rows = PushIntent.objects.filter(claim=claim, state=State.SENDING).order_by("mapping_id", "channel_warehouse_id")
    for row in rows.values_list(*INTENT_FIELDS).iterator(chunk_size=2000):
        pk, mapping_id, cw_id, mode, quantity, delta, base, incoming, sku, product_id, upc, size, item_upc, ext = row
        yield Intent(
            pk,
            (mapping_id, cw_id),
            mode,
            quantity,
            delta,
            base,
            tuple(map(tuple, incoming or ())),
            sku,
            product_id or "",
            upc or item_upc or "",
            size or "",
            ext,
        )


def _settle_results(
    batch: Sequence[Intent], results: Sequence[QuantityResult], report: RunReport, open_keys: set[str]
) -> None:
    by_key = {(result.sku, result.warehouse_id): result for result in results}
    accepted: list[tuple[Intent, Any]] = []
    refused: list[tuple[Intent, Any]] = []
    unanswered: list[tuple[Intent, Any]] = []
    for intent in batch:
        result = by_key.get((intent.sku, intent.warehouse_id))
        (unanswered if result is None else accepted if result.ok else refused).append((intent, result))
    now = timezone.now()
    with transaction.atomic():
        _lock_ids(intent.id for intent in batch)
        _set_state([i.id for i, _ in accepted], State.SENT, settled_at=now)
        _set_errors({i.id: r.error or "refused" for i, r in refused}, State.FAILED, now)
        _set_state([i.id for i, _ in unanswered], State.UNKNOWN, error="the channel did not answer for this row")
        ledger_write({i.key: (i.quantity, i.incoming) for i, _ in accepted}, at=now)
    report.unknown += len(unanswered)
    for intent, _ in accepted:
        if intent.record_key in open_keys:
            report.succeeded(intent.record_key)
        if intent.base is None:
            report.created += 1
        else:
            report.updated += 1
    for intent, result in refused:
        report.issue(intent.record_key, f"refused: {result.error or 'no reason given'}", _payload(intent))


def _settle_failed(batch: Sequence[Intent], error: str, report: RunReport) -> None:
    _set_state([i.id for i in batch], State.FAILED, error=error[:1000], settled_at=timezone.now())
    for intent in batch:
        report.issue(intent.record_key, error, _payload(intent))


def _mark_unknown(batch: Sequence[Intent], error: str) -> None:
    _set_state([i.id for i in batch], State.UNKNOWN, error=error[:1000])


def _set_errors(errors: dict[int, str], state: str, now) -> None:
    rows = [PushIntent(id=pk, state=state, error=error[:1000], settled_at=now) for pk, error in errors.items()]
    PushIntent.objects.bulk_update(rows, ["state", "error", "settled_at"], batch_size=CLAIM_CHUNK)


def _set_state(ids: list[int], state: str, **fields) -> None:
    for start in range(0, len(ids), CLAIM_CHUNK):
        PushIntent.objects.filter(id__in=ids[start : start + CLAIM_CHUNK]).update(state=state, **fields)


def _payload(intent: Intent) -> dict:
    return {"sku": intent.sku, "warehouse": intent.warehouse_id, "quantity": intent.quantity, "delta": intent.delta}


SETTLE_FIELDS = ("id", "mapping_id", "channel_warehouse_id", "base", "sent_at", "quantity", "incoming", "error")


def intents_settle(
    *, channel_id: int, connector: QuantitySink, report: RunReport, dry_run: bool = False, claim: str | None = None
) -> set[Key]:
    """Settle every push whose outcome is unknown by reading the channel; the keys that stay blocked."""
    now = timezone.now()
    # Pending intents (recorded, not claimed yet) are the caller's: see intents_queued.
    sent = (State.SENDING, State.UNKNOWN)
    unsettled = PushIntent.objects.filter(channel_warehouse__channel_id=channel_id, state__in=sent)
    if claim:
        unsettled = unsettled.filter(claim=claim)
    rows = list(
        unsettled.values_list(
            *SETTLE_FIELDS, "mapping__channel_sku", "channel_warehouse__external_id", "state", "claimed_by"
        )
    )
    sending = [r for r in rows if r[-2] == State.SENDING and r[4]]
    stale = {r[0] for r in sending if r[4] < now - stale_after()}
    orphans = _orphans([r for r in sending if r[0] not in stale], now)
    to_read = [r[:-1] for r in rows if r[-2] == State.UNKNOWN or r[0] in stale or r[0] in orphans]
    blocked = {(r[1], r[2]) for r in rows} - {(r[1], r[2]) for r in to_read}
    if orphans and not dry_run:
        report.note(f"the last run died while pushing {len(orphans)} quantity(ies): settled by reading the channel")
    if not to_read:
        return blocked
    keys = {(r[1], r[2]) for r in to_read}
    if dry_run:
        report.say(f"{len(to_read)} earlier push(es) of unknown outcome would first be settled by reading the channel")
        return blocked | keys
    found = channel_quantities(connector=connector, channel_id=channel_id, keys=keys)
    return blocked | _settle_read(to_read, found, report, this_run=bool(claim))


@dataclass(frozen=True)
class Queued:
    """A pending intent of an earlier run: recorded, queued in one of its chunk tasks, not claimed yet."""

    id: int
    quantity: int
    incoming: tuple[tuple[str, int], ...]
    base: int | None  # the ledger's quantity it was computed from (a relative push's delta starts there)
    fresh: bool  # recorded within the task timeout: its chunk task may still come

    def holds(self, quantity: int, wip: tuple, base: int | None) -> bool:
        """Still what should be sent, from the same ledger figure: left to its chunk, not recorded again."""
        return self.fresh and (self.quantity, self.incoming, self.base) == (quantity, wip, base)


def intents_queued(*, channel_id: int, mapping_ids: Iterable[int] | None = None) -> dict[Key, Queued]:
    """The channel's pending intents (of all its listings, or these) by listing and channel warehouse."""
    fresh_after = timezone.now() - stale_after()
    chosen = None if mapping_ids is None else set(mapping_ids)
    rows = PushIntent.objects.filter(channel_warehouse__channel_id=channel_id, state=State.PENDING).values_list(
        "id", "mapping_id", "channel_warehouse_id", "quantity", "incoming", "base", "created_at"
    )
    return {
        (mapping_id, cw_id): Queued(pk, quantity, tuple(map(tuple, incoming or ())), base, created_at > fresh_after)
        for pk, mapping_id, cw_id, quantity, incoming, base, created_at in rows.iterator(chunk_size=10000)
        if chosen is None or mapping_id in chosen
    }


def intents_supersede(ids: Iterable[int]) -> set[int]:
    """Supersede these pending intents (never sent: a newer computation replaces them); the ids superseded.
    A chunk may be claiming some of them right now: the rows are locked in the order its claim takes, and one
    it claimed first is left to it."""
    now, superseded = timezone.now(), set()
    with transaction.atomic():
        for chunk in batched(sorted(ids), CLAIM_CHUNK):
            pending = _lock_states(chunk, (State.PENDING,))
            PushIntent.objects.filter(id__in=pending).update(state=State.SUPERSEDED, settled_at=now)
            superseded.update(pending)
    return superseded


def _orphans(sending: list[tuple], now) -> set[int]:
    """The ids of `sending` pushes whose sender is known dead and whose last request can no longer be in flight."""
    settled_by = now - timedelta(seconds=float(settings.HTTP_READ_TIMEOUT))
    alive: dict[str, bool] = {}
    orphans = set()
    for row in sending:
        holder = row[-1]
        if holder not in alive:
            alive[holder] = holder_alive(holder)
        if not alive[holder] and row[4] < settled_by:
            orphans.add(row[0])
    return orphans


@dataclass(frozen=True)
class _Reading:
    """What the channel's figure says of one unknown push: applied or not, and what the ledger now holds."""

    pk: int
    key: Key
    applied: bool
    ledger: tuple[int, tuple] | None
    record_key: str
    first: bool  # no quantity was ever confirmed here: an applied push counts as created
    problem: str = ""
    payload: dict | None = None


def _settle_read(rows: list[tuple], found: dict[Key, int], report: RunReport, *, this_run: bool) -> set[Key]:
    """Settle unknown pushes from the channel's figures: applied if the channel shows the pushed quantity.

    Pushes of this run (`this_run`) move from its unknown count to the count of what happened; an earlier run's
    are not this run's records: they get a note, and the listings they keep blocked count as unknown here. A
    chunk and the next run can read the same unknown pushes: each settles (and counts) only those still
    unsettled once it holds their rows.
    """
    now, still_blocked, readings = timezone.now(), set(), []
    for pk, mapping_id, cw_id, base, _sent, quantity, incoming, error, sku, external_id, _state in rows:
        key, record_key = (mapping_id, cw_id), f"{sku}@{external_id}"
        if key not in found and base is not None:
            still_blocked.add(key)
            report.flag(record_key, UNSETTLED_MISSING)
            continue
        shows = found.get(key)
        if shows == quantity:
            held = (quantity, tuple(map(tuple, incoming or ())))
            readings.append(_Reading(pk, key, True, held, record_key, base is None))
            continue
        # No figure on a first push here (no quantity was ever confirmed): had it been applied, the channel would
        # show it; it never arrived (a batch stopped before its call), and the next run pushes it again.
        why = "the channel shows no quantity" if shows is None else f"the channel shows {shows}"
        problem = f"not applied{f' ({error})' if error else ''}: {why}, the push meant {quantity}"
        payload = {"sku": sku, "warehouse": external_id, "quantity": quantity, "channel_shows": shows}
        shown = None if shows is None else (shows, ())
        readings.append(_Reading(pk, key, False, shown, record_key, base is None, problem, payload))
    with transaction.atomic():
        unsettled = _lock_unsettled([r.pk for r in readings])
        readings = [r for r in readings if r.pk in unsettled]
        _set_state([r.pk for r in readings if r.applied], State.SENT, error="", settled_at=now)
        _set_errors({r.pk: r.problem for r in readings if not r.applied}, State.FAILED, now)
        ledger_write({r.key: r.ledger for r in readings if r.ledger is not None}, at=now)
    applied = [r for r in readings if r.applied]
    if this_run:
        report.unknown -= len(readings)
        for reading in readings:
            if reading.applied:
                report.created, report.updated = report.created + reading.first, report.updated + (not reading.first)
            else:  # a failed record of this run: in the issue queue, resolved when a later push lands
                report.issue(reading.record_key, f"{reading.problem}; the next run pushes again", reading.payload)
    elif readings:
        report.note(
            f"earlier pushes of unknown outcome settled: {len(applied)} applied, {len(readings) - len(applied)} not"
        )
    return still_blocked


UNSETTLED_MISSING = (
    "a push of unknown outcome cannot be settled: the channel reports no quantity for this listing in this "
    "warehouse; check it on the channel"
)
