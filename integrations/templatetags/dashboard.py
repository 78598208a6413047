"""Short relative times for the dashboard's cells, where "2 hours, 3 minutes" does not fit."""

from datetime import datetime

from django import template

register = template.Library()


@register.filter
def ago(moment: datetime | None, now: datetime) -> str:
    """'just now', '12 min ago', '3 h ago', '2 d ago'."""
    if moment is None:
        return ""
    seconds = max((now - moment).total_seconds(), 0)
    if seconds < 60:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return f"{int(seconds // 60)} min ago"


@register.filter
def flow_words(flow: str) -> str:
    """'orders.download' → 'orders download'; the health check reads as one."""
    return "health check" if flow == "integrations.ping" else flow.replace(".", " ").replace("_", " ")
