"""Schedules are code: one django-q2 Schedule per enabled channel and enabled flow, upserted by name.

django-q2 1.11 has no per-schedule catch_up; missed runs are skipped cluster-wide by `Q_CLUSTER["catch_up"] =
False` (config/settings.py), which also keeps `timeout` below `retry`. A schedule belongs to its channel through
its args `(channel_id, flow)`, so renaming a channel's slug renames its schedules instead of orphaning them.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_q.models import Schedule

from integrations.flows import default_interval
from integrations.models import Channel
from integrations.queue import RUN_FLOW


@dataclass
class ScheduleChanges:
    created: int = 0
    updated: int = 0
    deleted: int = 0

    def __iadd__(self, other: "ScheduleChanges") -> "ScheduleChanges":
        self.created += other.created
        self.updated += other.updated
        self.deleted += other.deleted
        return self


# Every schedule this module writes is named with this prefix and calls RUN_FLOW.
NAME_PREFIX = "switchyard:"


def schedule_name(channel: Channel, flow: str) -> str:
    return f"{NAME_PREFIX}{channel.slug}:{flow}"


def schedule_is_managed(schedule: Schedule) -> bool:
    """True for a schedule Switchyard keeps in step with a channel's settings (edit the channel, not it)."""
    return schedule.func == RUN_FLOW or (schedule.name or "").startswith(NAME_PREFIX)


def schedule_channel_id(schedule: Schedule) -> int | None:
    """The channel a sync schedule runs for, read from its args `(channel_id, flow)`."""
    head = (schedule.args or "").lstrip("(").split(",", 1)[0]
    return int(head) if head.strip().isdigit() else None


def wanted_schedules(channel: Channel) -> dict[str, tuple[str, int]]:
    """{schedule name: (flow, minutes)} for every enabled flow of an enabled channel."""
    if not channel.enabled:
        return {}
    return {
        schedule_name(channel, flow): (flow, channel.flow_interval(flow, default_interval(flow, channel.role)))
        for flow in channel.enabled_flows()
    }


def channel_schedules(channel_id: int) -> QuerySet[Schedule]:
    """The sync schedules that belong to a channel (any name it had)."""
    return Schedule.objects.filter(func=RUN_FLOW, args__startswith=f"({channel_id}, ")


@transaction.atomic
def schedules_sync_channel(channel: Channel) -> ScheduleChanges:
    """Create, re-time and remove the channel's schedules to match its enabled flows and intervals."""
    changes = ScheduleChanges()
    wanted = wanted_schedules(channel)
    stale = channel_schedules(channel.pk).exclude(name__in=list(wanted))
    changes.deleted = stale.delete()[0]
    existing = {s.name: s for s in channel_schedules(channel.pk).filter(name__in=list(wanted))}
    for name, (flow, minutes) in wanted.items():
        schedule = existing.get(name)
        if schedule is None:
            _create(channel, name, flow, minutes)
            changes.created += 1
        elif _retime(schedule, minutes):
            changes.updated += 1
    return changes


def schedules_remove_channel(channel_id: int) -> int:
    """Delete every schedule of a channel (it was deleted); the number removed."""
    return channel_schedules(channel_id).delete()[0]


def schedules_sync_all() -> ScheduleChanges:
    """Bring every channel's schedules in step, and remove schedules whose channel no longer exists."""
    changes = ScheduleChanges()
    channel_ids = set()
    for channel in Channel.objects.all():
        channel_ids.add(channel.pk)
        changes += schedules_sync_channel(channel)
    for schedule in Schedule.objects.filter(func=RUN_FLOW).only("pk", "args"):
        if schedule_channel_id(schedule) not in channel_ids:
            schedule.delete()
            changes.deleted += 1
    return changes


def _create(channel: Channel, name: str, flow: str, minutes: int) -> None:
    # First run at the next scheduler tick: enabling a flow should show a run soon, not an interval later.
    Schedule.objects.create(
        name=name,
        func=RUN_FLOW,
        args=repr((channel.pk, flow)),
        schedule_type=Schedule.MINUTES,
        minutes=minutes,
        repeats=-1,
        next_run=timezone.now(),
    )


def _retime(schedule: Schedule, minutes: int) -> bool:
    if schedule.minutes == minutes and schedule.schedule_type == Schedule.MINUTES and schedule.repeats == -1:
        return False
    sooner = timezone.now() + timedelta(minutes=minutes)
    schedule.schedule_type, schedule.minutes, schedule.repeats = Schedule.MINUTES, minutes, -1
    schedule.next_run = min(schedule.next_run, sooner) if schedule.next_run else sooner
    schedule.save(update_fields=["schedule_type", "minutes", "repeats", "next_run"])
    return True
