"""Short relative times for the dashboard's cells, where "2 hours, 3 minutes" does not fit."""

from datetime import datetime

from django import template

from integrations.flows import flow_label

register = template.Library()


@register.filter
def age(moment: datetime | None, now: datetime) -> str:
    """How long before `now`: '40 s', '12 min', '3 h', '2 d'."""
    if moment is None:
        return ""
    seconds = max((now - moment).total_seconds(), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


@register.filter
def ago(moment: datetime | None, now: datetime) -> str:
    """'12 min ago'; blank when there is no moment."""
    return f"{age(moment, now)} ago" if moment else ""


@register.filter
def flow_words(flow: str) -> str:
    """'orders.download' → 'Order download': the label its app declares (integrations/flows.py), as everywhere
    else a person reads a flow."""
    return flow_label(flow)
