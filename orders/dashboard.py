"""The orders app's part of the admin home: orders held or failed, failed shipment uploads, orders per day."""

from datetime import datetime

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils.safestring import SafeString

from integrations.dashboard import Chart, Counter, local_days, register_chart, register_counter, start_of
from integrations.svg import PALETTE, Series, stacked_bars
from orders.models import Order, OrderStatus, ShipmentUpload, UploadState

ORDER_DAYS = 30


def _orders_url(status: str) -> str:
    return f"{reverse('admin:orders_order_changelist')}?status__exact={status}"


def orders_per_day_chart(now: datetime) -> SafeString:
    """Orders placed on each of the last 30 days, stacked by channel: a range scan of the placed-date index."""
    days = local_days(now, ORDER_DAYS)
    rows = (
        Order.objects.filter(placed_at__gte=start_of(days[0]))
        .annotate(day=TruncDate("placed_at"))
        .values_list("day", "channel__name")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[str, dict] = {}
    for day, channel, n in rows:
        counts.setdefault(channel, {})[day] = n
    series = [
        Series(channel, [by_day.get(day, 0) for day in days], PALETTE[k % len(PALETTE)])
        for k, (channel, by_day) in enumerate(sorted(counts.items()))
    ]
    labels = [day.strftime("%b %-d") if k % 5 == 4 else "" for k, day in enumerate(days)]
    return stacked_bars(labels, series, empty="No orders in the last 30 days")


def register_panels() -> None:
    held = "Orders waiting for a person: an unmapped SKU, an inactive item, a missing customer or ship-to"
    register_counter(
        Counter("held orders", "orders.view_order", held_count, lambda: _orders_url(OrderStatus.HELD), 20, held)
    )
    register_counter(
        Counter(
            "orders failed to submit",
            "orders.view_order",
            failed_count,
            lambda: _orders_url(OrderStatus.FAILED),
            21,
            "The fulfillment system refused them or kept failing; see each order's last error",
        )
    )
    register_counter(
        Counter(
            "failed shipment uploads",
            "orders.view_shipment",
            failed_uploads_count,
            lambda: f"{reverse('admin:orders_shipment_changelist')}?upload={UploadState.FAILED}",
            40,
            "Shipments a channel refused; fix and re-send from the shipment list",
        )
    )
    register_chart(
        Chart(f"Orders per day by channel ({ORDER_DAYS} days)", "orders.view_order", orders_per_day_chart, 10)
    )


def held_count() -> int:
    return Order.objects.filter(status=OrderStatus.HELD).count()


def failed_count() -> int:
    return Order.objects.filter(status=OrderStatus.FAILED).count()


def failed_uploads_count() -> int:
    # Shipments, as the list it links to shows them: one sent to two channels that both refused is one.
    return ShipmentUpload.objects.filter(state=UploadState.FAILED).values("shipment").distinct().count()
