"""What keeps the orders and shipments changelists fast at a million rows, the two-step (confirm, then
result) pages of the delete and resubmit actions, and the confirmation page of the shipments' re-send."""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.paginator import Paginator
from django.db.models import Max, Min, Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import formats, timezone
from django.utils.functional import cached_property

from integrations.connectors import connector_class
from orders.manual import Outcome, Plan
from orders.models import Order, OrderRules, OrderStatus, Shipment, ShipmentUpload, ShipmentUploadMode, UploadState
from orders.shipment_upload import uncorrectable, uploads_resend

# An action calls the channel once or more per order: keep a click within a few minutes.
MAX_ACTION_ORDERS = 200
# The re-send is one UPDATE; the limit keeps its confirmation page readable.
MAX_RESEND_SHIPMENTS = 500


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


def shipments_search(queryset: QuerySet[Shipment], term: str) -> QuerySet[Shipment]:
    """Shipments with this exact tracking number, invoice number or fulfillment shipment id, or of the order
    with this exact number (channel, fulfillment or channel id): index lookups joined by a UNION of ids."""
    term = term.strip()
    if not term:
        return queryset
    shipments = Shipment.objects.order_by()  # no ORDER BY inside a UNION (SQLite refuses it)
    own = shipments.filter(Q(tracking_number=term) | Q(invoice_number=term) | Q(external_id=term)).values("pk")
    orders = Order.objects.filter(Q(number=term) | Q(fulfillment_number=term) | Q(external_id=term))
    by_order = shipments.filter(order__in=orders.values("pk")).values("pk")
    return queryset.filter(pk__in=own.union(by_order))


@dataclass(frozen=True)
class ResendPlan:
    shipment: Shipment
    upload: ShipmentUpload | None
    allowed: bool
    reason: str  # in two words, for the summary message
    text: str


def resend_plan(shipment: Shipment, upload: ShipmentUpload | None, *, waits_for_complete: bool) -> ResendPlan:
    """What the re-send does to one outbox row of the shipment (its channel selected): only a failed row goes
    back in the queue, and a failed correction only where the channel's API can change a sent shipment."""

    def refused(reason: str, text: str) -> ResendPlan:
        return ResendPlan(shipment, upload, False, reason, f"Refused: {text}")

    if upload is None:
        return refused("nothing to send", f"nothing to send; {shipment.channel} takes no shipments from the hub.")
    corrects = connector_class(upload.channel.kind).corrects_shipments
    if upload.state == UploadState.FAILED and upload.correction and not corrects:
        return refused("cannot be corrected", f"{uncorrectable(upload.channel)}.")
    if upload.state == UploadState.FAILED:
        what = "The correction will be sent again" if upload.correction else "Will be re-sent"
        text = f"{what} (read back from the channel first, so it is never sent twice)."
        return ResendPlan(shipment, upload, True, "failed", f"{text} It failed with: {upload.last_error}")
    if upload.state == UploadState.SENT:
        return refused("already sent", f"already sent at {_when(upload.sent_at)}")
    if upload.next_attempt_at and upload.next_attempt_at > timezone.now():
        error = f"; last error: {upload.last_error}" if upload.last_error else ""
        return refused("pending", f"pending, waiting for retry at {_when(upload.next_attempt_at)}{error}")
    if waits_for_complete and shipment.order.status != OrderStatus.SHIPPED and not upload.correction:
        return refused("pending", "pending; sent once the whole order has shipped (the channel waits for it).")
    return refused("pending", "pending; will be sent by the next run.")


def shipments_resend_page(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Shipment]
) -> TemplateResponse | None:
    """First a page listing, per shipment, whether its upload is re-sent or why not; on confirm, put the
    failed rows (checked again) back in the queue and say what happened in messages."""
    uploads = ShipmentUpload.objects.select_related("channel").order_by("channel_id")
    queryset = (
        queryset.select_related("order", "channel")
        .prefetch_related(None)
        .prefetch_related(Prefetch("uploads", uploads))
    )
    shipments = list(queryset[: MAX_RESEND_SHIPMENTS + 1])
    plans = resend_plans(shipments[:MAX_RESEND_SHIPMENTS])
    if request.POST.get("confirm") == "yes":
        _resend_confirmed(model_admin, request, plans)
        return None  # back to the list, with the messages
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Re-send failed shipment uploads",
        "action": "resend_failed_uploads",
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "too_many": len(shipments) > MAX_RESEND_SHIPMENTS,
        "limit": MAX_RESEND_SHIPMENTS,
        "plans": plans,
        "allowed": sum(p.allowed for p in plans),
    }
    return TemplateResponse(request, "admin/orders/shipment/resend_confirmation.html", context)


def resend_plans(shipments: list[Shipment]) -> list[ResendPlan]:
    """One plan per outbox row (uploads prefetched), or one for a shipment that has none."""
    waiting = set(
        OrderRules.objects.filter(
            channel_id__in={s.channel_id for s in shipments}, shipment_upload=ShipmentUploadMode.COMPLETE
        ).values_list("channel_id", flat=True)
    )
    return [
        resend_plan(shipment, upload, waits_for_complete=(upload.channel_id if upload else 0) in waiting)
        for shipment in shipments
        for upload in (shipment.uploads.all() or [None])
    ]


def _resend_confirmed(model_admin: admin.ModelAdmin, request: HttpRequest, plans: list[ResendPlan]) -> None:
    requeued = uploads_resend(upload_ids=[p.upload.pk for p in plans if p.allowed and p.upload], user=request.user)
    if requeued:
        model_admin.message_user(
            request,
            f"{len(requeued)} upload(s) re-queued: the next shipments.upload run reads each back from its channel "
            "and sends it only if the channel does not have it.",
            messages.SUCCESS,
        )
    not_done = Counter(p.reason for p in plans if not (p.upload and p.upload.pk in requeued))
    if not_done:
        counts = ", ".join(f"{count} {reason}" for reason, count in sorted(not_done.items()))
        model_admin.message_user(request, f"Not re-queued: {counts}.", messages.WARNING)


def _when(moment: datetime | None) -> str:
    return formats.localize(timezone.localtime(moment)) if moment else "an unknown time"
