"""The inventory app's part of the admin home: discrepancies, pushes of unknown outcome, pushes per day."""

from datetime import datetime

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils.safestring import SafeString

from integrations.dashboard import Chart, Counter, local_days, register_chart, register_counter, start_of
from integrations.svg import Series, stacked_bars
from inventory.models import Discrepancy, PushIntent

PUSH_DAYS = 30
PUSH_COLORS = {
    PushIntent.State.SENT: "#3f8f3f",
    PushIntent.State.UNKNOWN: "#e0a21e",
    PushIntent.State.FAILED: "#c8382e",
    PushIntent.State.PENDING: "#2f6fb0",
    PushIntent.State.SENDING: "#6fa0d8",
    PushIntent.State.SUPERSEDED: "#a0a7b0",
}
PUSH_LABELS = {PushIntent.State.SENT: "accepted", PushIntent.State.UNKNOWN: "outcome unknown"}


def pushes_per_day_chart(now: datetime) -> SafeString:
    """Inventory pushes recorded on each of the last 30 days, stacked by outcome (the created-date index)."""
    days = local_days(now, PUSH_DAYS)
    rows = (
        PushIntent.objects.filter(created_at__gte=start_of(days[0]))
        .annotate(day=TruncDate("created_at"))
        .values_list("day", "state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {(day, state): n for day, state, n in rows}
    series = [
        Series(PUSH_LABELS.get(state, state), [counts.get((day, state), 0) for day in days], color)
        for state, color in PUSH_COLORS.items()
        if any(counts.get((day, state)) for day in days) or state == PushIntent.State.SENT
    ]
    labels = [day.strftime("%b %-d") if k % 5 == 4 else "" for k, day in enumerate(days)]
    return stacked_bars(labels, series, empty="No inventory pushes in the last 30 days")


def register_panels() -> None:
    register_counter(
        Counter(
            "discrepancies",
            "inventory.view_discrepancy",
            lambda: Discrepancy.objects.count(),
            lambda: reverse("admin:inventory_discrepancy_changelist"),
            50,
            "Listings whose quantity on the channel differs from the hub's, from the last reconcile",
        )
    )
    register_counter(
        Counter(
            "pushes of unknown outcome",
            "inventory.view_pushintent",
            lambda: PushIntent.objects.filter(state=PushIntent.State.UNKNOWN).count(),
            lambda: f"{reverse('admin:inventory_pushintent_changelist')}?state__exact={PushIntent.State.UNKNOWN}",
            51,
            "Quantities sent without an answer; the next push reads the channel back before sending again",
        )
    )
    register_chart(
        Chart(f"Inventory pushes per day ({PUSH_DAYS} days)", "inventory.view_pushintent", pushes_per_day_chart, 30)
    )
