"""How the admin lists show things so they fit a 1400 px screen: a status as a coloured badge, a long text cut
with the whole of it on hover. Every app's admin uses these; they build HTML, they query nothing."""

from datetime import datetime
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

# Badge colours by tone; a status maps to a tone in STATUS_TONES (statuses of every model share one vocabulary).
TONES = {
    "good": ("#1e6b34", "#e3f3e6"),
    "warn": ("#7a4b00", "#fdf0d5"),
    "bad": ("#8f1d1d", "#fbe1e1"),
    "info": ("#1f4f7a", "#e1edf8"),
    "mute": ("#555", "#ececec"),
}
STATUS_TONES = {
    # sync runs and issues
    "ok": "good",
    "partial": "warn",
    "failed": "bad",
    "running": "info",
    "skipped": "mute",
    "open": "bad",
    "resolved": "good",
    # orders
    "downloaded": "info",
    "held": "warn",
    "submitted": "info",
    "acknowledged": "info",
    "batched": "info",
    "partially_shipped": "info",
    "shipped": "good",
    "cancelled": "mute",
    "deleted": "mute",
    # listings
    "mapped": "good",
    "unmapped": "warn",
    "conflict": "bad",
    "ignored": "mute",
    # outboxes (shipment uploads, inventory pushes)
    "pending": "info",
    "sending": "info",
    "sent": "good",
    "accepted": "good",
    "unknown": "warn",
    "superseded": "mute",
}


def badge(value: str, label: str | None = None, *, tone: str | None = None) -> SafeString:
    """A status as a small coloured pill; `label` is what it reads (the choice's display), `value` picks the colour."""
    fg, bg = TONES[tone or STATUS_TONES.get(value, "mute")]
    style = f"color:{fg};background:{bg};padding:1px 7px;border-radius:9px;white-space:nowrap;font-size:11px"
    return format_html('<span class="sy-badge sy-{}" style="{}">{}</span>', value, style, label or value)


def cut(text: str, length: int = 60) -> SafeString | str:
    """A long text cut to `length` characters, the whole of it in the title (shown on hover)."""
    text = " ".join((text or "").split())
    if len(text) <= length:
        return text
    return format_html('<span class="sy-cut" title="{}">{}</span>', text, Truncator(text).chars(length))


def narrow(text: object, *, key: bool = False) -> SafeString:
    """A value that may wrap to a narrow column (a long channel name) so the texts beside it keep their room;
    a `key` (a record key, a SKU) may break anywhere, a name only between words."""
    return format_html('<span class="sy-narrow{}">{}</span>', " sy-key" if key else "", text)


class FitsList:
    """Mixed into a ModelAdmin whose list uses these helpers: loads the few rules they rely on, and offers the
    row's channel as a column that wraps (`channel_name`; the row's admin selects the channel)."""

    class Media:
        css = {"all": ("switchyard/lists.css",)}

    @admin.display(description="channel", ordering="channel__name")
    def channel_name(self, row: Any) -> SafeString:
        return narrow(row.channel)


def when(moment: datetime | None) -> SafeString | str:
    """A timestamp short enough for a list column ("Dec 4, 16:29"); the full one on hover."""
    if moment is None:
        return "-"
    local = timezone.localtime(moment)
    today = timezone.localdate()
    short = local.strftime("%b %-d, %H:%M" if local.year == today.year else "%b %-d %Y, %H:%M")
    return format_html('<span title="{}" style="white-space:nowrap">{}</span>', local.isoformat(" ", "seconds"), short)


def stacked(main: object, detail: object = "") -> SafeString:
    """A cell with a second, smaller line under it (a hold reason under the status, an error under a badge)."""
    if not detail:
        return format_html("{}", main)
    return format_html('{}<div style="color:var(--body-quiet-color);font-size:11px;margin-top:2px">{}</div>', main,
                       detail)  # fmt: skip


class FromFulfillment:
    """Mixed into the admin of rows the fulfillment system owns (items, bundle components, warehouses): a person
    reads them here and changes them there; the next download would overwrite an edit made here anyway."""

    source_note = (
        "These come from the fulfillment system with its downloads (Sync runs); change them there. "
        "They are read-only here."
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        context = {"subtitle": self.source_note, **(extra_context or {})}
        return super().changelist_view(request, context)  # type: ignore[misc]
