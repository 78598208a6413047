"""The admin home: health matrix, counters of what needs a person, charts.

Domain apps register their counters and charts here from their AppConfig.ready(), as they register flows, so
integrations imports none of them. Each counter is one COUNT over an index and each chart one GROUP BY over a
bounded time window: the page costs the same number of queries whatever the size of the tables.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncHour
from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString

from integrations.health_matrix import health_matrix
from integrations.models import SyncIssue, SyncRun
from integrations.svg import Series, stacked_bars


@dataclass(frozen=True)
class Counter:
    """A number a person must act on, linking to the list that shows those rows."""

    label: str
    perm: str  # the view permission of the list it links to
    count: Callable[[], int]
    url: Callable[[], str]
    rank: int = 50
    help: str = ""


@dataclass(frozen=True)
class Chart:
    title: str
    perm: str
    draw: Callable[[datetime], SafeString]
    rank: int = 50


# Keyed by label: registering again (a second ready()) replaces instead of doubling.
_counters: dict[str, Counter] = {}
_charts: dict[str, Chart] = {}


def register_counter(counter: Counter) -> None:
    _counters[counter.label] = counter


def register_chart(chart: Chart) -> None:
    _charts[chart.title] = chart


def counters() -> list[Counter]:
    return sorted(_counters.values(), key=lambda c: c.rank)


def charts() -> list[Chart]:
    return sorted(_charts.values(), key=lambda c: c.rank)


def dashboard_context(request: HttpRequest) -> dict[str, Any]:
    """What the admin index shows this user: only what their view permissions let them open."""
    now = timezone.now()
    user = request.user
    may_see_runs = user.has_perm("integrations.view_syncrun")
    return {
        "matrix": health_matrix(now=now) if may_see_runs else None,
        "counters": [
            {"label": c.label, "count": c.count(), "url": c.url(), "help": c.help}
            for c in counters()
            if user.has_perm(c.perm)
        ],
        "charts": [{"title": c.title, "svg": c.draw(now)} for c in charts() if user.has_perm(c.perm)],
        "now": now,
    }


def local_hours(now: datetime, hours: int) -> list[datetime]:
    """The last `hours` whole hours in the current time zone, oldest first, the current one last."""
    current = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)
    return [current - timedelta(hours=hours - 1 - k) for k in range(hours)]


def local_days(now: datetime, days: int) -> list[date]:
    """The last `days` dates in the current time zone, oldest first, today last."""
    today = timezone.localdate(now)
    return [today - timedelta(days=days - 1 - k) for k in range(days)]


def start_of(day: date) -> datetime:
    """Midnight at the start of a local date, as an aware datetime to filter on."""
    return timezone.make_aware(datetime.combine(day, time()))


RUN_COLORS: dict[str, str] = {
    SyncRun.Status.OK: "#3f8f3f",
    SyncRun.Status.PARTIAL: "#e0a21e",
    SyncRun.Status.FAILED: "#c8382e",
    SyncRun.Status.SKIPPED: "#a0a7b0",
    SyncRun.Status.RUNNING: "#2f6fb0",
}


def runs_per_hour_chart(now: datetime) -> SafeString:
    """Sync runs started in each of the last 48 hours, stacked by status."""
    hours = local_hours(now, 48)
    rows = (
        SyncRun.objects.filter(started_at__gte=hours[0])
        .annotate(hour=TruncHour("started_at"))
        .values_list("hour", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {(timezone.localtime(hour), status): n for hour, status, n in rows}
    series = [
        Series(str(label), [counts.get((hour, status), 0) for hour in hours], RUN_COLORS.get(status, "#6b7280"))
        for status, label in SyncRun.Status.choices
    ]
    labels = [hour_label(hour) if hour.hour % 6 == 0 else "" for hour in hours]
    return stacked_bars(labels, series, empty="No sync runs in the last 48 hours")


def hour_label(hour: datetime) -> str:
    return hour.strftime("%b %-d") if hour.hour == 0 else hour.strftime("%H:00")


def open_issues_count() -> int:
    return SyncIssue.objects.filter(status=SyncIssue.Status.OPEN).count()


def register_integrations_panels() -> None:
    """The counters and charts integrations owns: open issues and sync runs."""
    from django.urls import reverse

    register_counter(
        Counter(
            "open issues",
            "integrations.view_syncissue",
            open_issues_count,
            lambda: reverse("admin:integrations_syncissue_changelist") + "?status__exact=open",
            rank=10,
            help="Records a flow could not process, waiting for a retry or a resolve",
        )
    )
    register_chart(
        Chart("Sync runs per hour by status (48 hours)", "integrations.view_syncrun", runs_per_hour_chart, 20)
    )
