"""What keeps the orders changelist fast at a million rows, and the two-step (confirm, then result) pages
of the delete and resubmit actions."""

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.paginator import Paginator
from django.db.models import Max, Min, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.functional import cached_property

from orders.manual import Outcome, Plan
from orders.models import Order

# An action calls the channel once or more per order: keep a click within a few minutes.
MAX_ACTION_ORDERS = 200


class CappedPaginator(Paginator):
    """Counts at most `cap` rows (`SELECT COUNT(*) FROM (… LIMIT cap + 1)`), so a filtered page never
    counts a million orders; the page says "more than 10,000" instead."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap


class SpanDatesQuerySet(QuerySet):
    """The admin's date drill-down asks for the distinct years (months, days) with orders: a DISTINCT over
    every row. This answers with every period between the first and the last order instead (two index
    lookups); a period without orders simply shows an empty list."""

    def datetimes(self, field_name: str, kind: str, order: str = "ASC", tzinfo: Any = None, **kwargs: Any) -> list:
        span = self.aggregate(first=Min(field_name), last=Max(field_name))
        if not span["first"]:
            return []
        first, last = timezone.localtime(span["first"]), timezone.localtime(span["last"])
        periods = list(_periods(first, last, kind))
        return periods if order == "ASC" else periods[::-1]


def _periods(first: datetime, last: datetime, kind: str) -> Iterable[datetime]:
    if kind == "year":
        for year in range(first.year, last.year + 1):
            yield first.replace(year=year, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    elif kind == "month":
        month, end = (first.year, first.month), (last.year, last.month)
        while month <= end:
            yield first.replace(year=month[0], month=month[1], day=1, hour=0, minute=0, second=0, microsecond=0)
            month = (month[0] + month[1] // 12, month[1] % 12 + 1)
    else:
        day = first.replace(hour=0, minute=0, second=0, microsecond=0)
        while day.date() <= last.date():
            yield day
            day = (day + timedelta(days=1)).replace(hour=0)


def order_action_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Order],
    *,
    action: str,
    title: str,
    plan: Callable[[Order], Plan],
    run: Callable[..., list[Outcome]],
) -> TemplateResponse:
    """First a page listing, per order, what the action will do or why it is refused; on confirm, run it on
    the orders still allowed (checked again: they may have moved) and list every outcome."""
    orders = list(
        queryset.select_related("channel__fulfillment", "customer").order_by("placed_at", "id")[: MAX_ACTION_ORDERS + 1]
    )
    too_many = len(orders) > MAX_ACTION_ORDERS
    orders = orders[:MAX_ACTION_ORDERS]
    plans = [plan(order) for order in orders]
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "action": action,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "too_many": too_many,
        "limit": MAX_ACTION_ORDERS,
    }
    if request.POST.get("confirm") != "yes":
        context.update(plans=plans, allowed=sum(p.allowed for p in plans))
        return TemplateResponse(request, "admin/orders/order/action_confirmation.html", context)
    refused = [Outcome(p.order, False, p.text) for p in plans if not p.allowed]
    outcomes = run(orders=[p.order for p in plans if p.allowed], user=request.user) + refused
    context.update(outcomes=outcomes, done=sum(o.ok for o in outcomes))
    return TemplateResponse(request, "admin/orders/order/action_result.html", context)
