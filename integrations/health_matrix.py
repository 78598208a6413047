"""Selector: the health of every channel and flow, from its recent sync runs, in one query.

Each cell reads four facts through the (channel, flow, -started_at) index, as correlated `LIMIT 1` subqueries on the
channel rows: the latest finished run (its status, time and error), the latest success, and the first run after that
success ("failing since"). Nothing scans the runs table, so the cost follows the number of cells, not of runs.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django.db.models import DateTimeField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse

from integrations.flow_health import STALE_INTERVALS
from integrations.flow_health import SUCCEEDED as SUCCESS_STATUSES
from integrations.flows import default_interval, registered
from integrations.models import Channel, SyncRun
from integrations.runner import supported_flows

# A run that finished: a skipped run (the lock was taken) and a dry run say nothing about the flow's health.
FINISHED = ~Q(status__in=[SyncRun.Status.RUNNING, SyncRun.Status.SKIPPED]) & Q(dry_run=False)
# The alerts' words (integrations/flow_health.py): what a success is, and stale after three intervals.
# A success reached the channel and did its work; a partial run's failed records wait in the issue queue.
SUCCEEDED = Q(status__in=SUCCESS_STATUSES, dry_run=False)
NEVER = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Cell:
    """One channel and flow: `tone` is ok/warn/bad/off (the colour), `state` says why in a word."""

    flow: str
    tone: str
    state: str
    interval: int
    last_run_at: datetime | None = None
    last_success_at: datetime | None = None
    failing_since: datetime | None = None
    error: str = ""
    url: str = ""


@dataclass(frozen=True)
class Row:
    channel: Channel
    cells: list[Cell | None]  # None: the channel's connector does not run that flow

    @property
    def worst(self) -> str:
        tones = {cell.tone for cell in self.cells if cell}
        return next((tone for tone in ("bad", "warn", "ok") if tone in tones), "off")


@dataclass(frozen=True)
class Matrix:
    flows: list[str]
    rows: list[Row]


def channel_flows(channel: Channel) -> frozenset[str]:
    """The flows a channel can run: those its connector's capabilities allow for its role, the health check too."""
    return frozenset(supported_flows(channel.kind, role=channel.role))


def health_matrix(*, now: datetime) -> Matrix:
    """Every channel (fulfillment system first) against every flow any of them runs, in one query.

    Columns follow the registry's dependency order (the health check last); a flow no channel runs has none.
    """
    every_flow = tuple(registered())
    channels = list(_matrix_query(every_flow).all())
    runs = {flow for channel in channels for flow in channel_flows(channel)}
    columns = [(i, flow) for i, flow in enumerate(every_flow) if flow in runs]
    rows = [_row(channel, columns, now) for channel in channels]
    return Matrix([flow for _, flow in columns], rows)


def _row(channel: Channel, columns: list[tuple[int, str]], now: datetime) -> Row:
    runs_here = channel_flows(channel)
    return Row(channel, [_cell(channel, i, flow, now) if flow in runs_here else None for i, flow in columns])


@lru_cache(maxsize=8)
def _matrix_query(flows: tuple[str, ...]) -> QuerySet[Channel]:
    """Built once per set of columns (it holds no time and no user): resolving some seventy correlated
    subqueries takes the ORM longer than the database takes to run them. Callers clone it with .all()."""
    return _annotated(Channel.objects.order_by("role", "name"), list(flows))


def _annotated(channels: QuerySet[Channel], flows: list[str]) -> QuerySet[Channel]:
    annotations: dict[str, Any] = {}
    for i, flow in enumerate(flows):
        latest = _runs(OuterRef("pk"), flow).filter(FINISHED).order_by("-started_at")
        success = _last_success(OuterRef("pk"), flow)
        # Inside the "since" subquery the channel is two levels out.
        success_there = _last_success(OuterRef(OuterRef("pk")), flow)
        after_success = Coalesce(Subquery(success_there), Value(NEVER), output_field=DateTimeField())
        annotations[f"h{i}_status"] = Subquery(latest.values("status")[:1])
        annotations[f"h{i}_at"] = Subquery(latest.values("started_at")[:1])
        annotations[f"h{i}_error"] = Subquery(latest.values("error")[:1])
        annotations[f"h{i}_success"] = Subquery(success)
        annotations[f"h{i}_since"] = Subquery(
            latest.filter(started_at__gt=after_success).order_by("started_at").values("started_at")[:1]
        )
    return channels.annotate(**annotations)


def _runs(channel: OuterRef, flow: str) -> QuerySet[SyncRun]:
    return SyncRun.objects.filter(channel=channel, flow=flow)


def _last_success(channel: OuterRef, flow: str) -> QuerySet[SyncRun, Any]:
    return _runs(channel, flow).filter(SUCCEEDED).order_by("-started_at").values("started_at")[:1]


def _cell(channel: Channel, i: int, flow: str, now: datetime) -> Cell:
    def fact(name: str) -> Any:
        return getattr(channel, f"h{i}_{name}", None)

    interval = channel.flow_interval(flow, default_interval(flow, channel.role))
    enabled = channel.enabled and channel.flow_enabled(flow)
    tone, state = judge(enabled=enabled, status=fact("status"), success=fact("success"), interval=interval, now=now)
    return Cell(
        flow,
        tone,
        state,
        interval,
        last_run_at=fact("at"),
        last_success_at=fact("success"),
        failing_since=fact("since") if state == "failing" else None,
        error=(fact("error") or "") if tone in ("bad", "warn") else "",
        url=runs_url(channel, flow),
    )


def judge(
    *, enabled: bool, status: str | None, success: datetime | None, interval: int, now: datetime
) -> tuple[str, str]:
    """(tone, state) of a cell from its latest finished run's status and its latest success."""
    if not enabled:
        return "off", "off"
    if status == SyncRun.Status.FAILED:
        return "bad", "failing"
    if status is None:
        return "warn", "never run"
    if success is None or now - success > timedelta(minutes=STALE_INTERVALS * interval):
        return "bad", "stale"
    if status == SyncRun.Status.OK:
        return "ok", "ok"
    return "warn", str(status)


def runs_url(channel: Channel, flow: str) -> str:
    """The sync-run list filtered to one channel's flow."""
    query = urlencode({"channel__id__exact": channel.pk, "flow": flow})
    return f"{reverse('admin:integrations_syncrun_changelist')}?{query}"
