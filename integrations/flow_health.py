"""How each enabled flow of a channel is doing: red when its last finished run failed, stale when it has not
succeeded for three of its intervals (the scheduler stopped, or every run is skipped or failing)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.db.models import Q, Subquery

from integrations.flows import default_interval
from integrations.models import Channel, SyncRun
from integrations.runner import supported_flows

STALE_INTERVALS = 3
FINISHED = (SyncRun.Status.OK, SyncRun.Status.PARTIAL, SyncRun.Status.FAILED)
SUCCEEDED = (SyncRun.Status.OK, SyncRun.Status.PARTIAL)


@dataclass
class FlowHealth:
    flow: str
    run: SyncRun | None  # the last finished run (skipped ones say nothing about health)
    last_success: datetime | None
    stale: bool
    failing_since: datetime | None = None

    @property
    def red(self) -> bool:
        return self.run is not None and self.run.status == SyncRun.Status.FAILED


def watched_flows(channel: Channel) -> list[str]:
    """The channel's enabled flows that its connector runs on a channel of its role (and an app installs)."""
    try:
        supported = set(supported_flows(channel.kind, role=channel.role))
    except LookupError:
        return []
    return [flow for flow in channel.enabled_flows() if flow in supported]


def channel_flow_health(*, channel: Channel, now: datetime) -> list[FlowHealth]:
    """Each watched flow's health: two queries, plus one per red flow for when it started failing."""
    flows = watched_flows(channel) if channel.enabled else []
    if not flows:
        return []
    last = _latest(channel, flows, FINISHED)
    succeeded = {run.flow: run.started_at for run in _latest(channel, flows, SUCCEEDED).values()}
    health = []
    for flow in flows:
        window = timedelta(minutes=STALE_INTERVALS * channel.flow_interval(flow, default_interval(flow, channel.role)))
        # Never succeeded: count from the channel's last save (when its flows were last switched on).
        reference = succeeded.get(flow) or channel.updated_at
        item = FlowHealth(flow, last.get(flow), succeeded.get(flow), stale=reference < now - window)
        if item.red:
            item.failing_since = _first_failure_after(channel, flow, succeeded.get(flow))
        health.append(item)
    return health


def _latest(channel: Channel, flows: list[str], statuses: tuple[str, ...]) -> dict[str, SyncRun]:
    """The latest run of each flow among `statuses`, in one query (one index-backed LIMIT 1 per flow)."""
    runs = SyncRun.objects.filter(channel=channel, status__in=statuses)
    latest = (Q(pk=Subquery(runs.filter(flow=flow).order_by("-started_at").values("pk")[:1])) for flow in flows)
    return {run.flow: run for run in SyncRun.objects.filter(reduce(or_, latest))}


def _first_failure_after(channel: Channel, flow: str, moment: datetime | None) -> datetime | None:
    failures = SyncRun.objects.filter(channel=channel, flow=flow, status=SyncRun.Status.FAILED)
    if moment:
        failures = failures.filter(started_at__gt=moment)
    return failures.order_by("started_at").values_list("started_at", flat=True).first()
