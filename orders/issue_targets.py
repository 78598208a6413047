"""The order or shipment an orders-app issue is about (integrations/issue_targets.py), one query per flow."""

from django.urls import reverse

from integrations.issue_targets import Target, matched, register_target
from integrations.models import SyncIssue
from orders.models import Order, Shipment

ORDER_FLOWS = ("orders.download", "orders.acknowledge", "cancellations.download")


def order_targets(issues: list[SyncIssue]) -> dict[int, Target]:
    """Issues keyed by the channel's order id."""
    rows = Order.objects.filter(
        channel_id__in={i.channel_id for i in issues}, external_id__in={i.record_key for i in issues}
    ).values_list("pk", "channel_id", "external_id", "number")
    found = {(channel_id, ext): _order(pk, number or ext) for pk, channel_id, ext, number in rows}
    return matched(issues, found)


def submission_targets(issues: list[SyncIssue]) -> dict[int, Target]:
    """orders.submit issues live on the fulfillment channel, keyed `<sales channel slug>/<order id>`."""
    keys = {tuple(i.record_key.split("/", 1)) for i in issues if "/" in i.record_key}
    rows = Order.objects.filter(
        channel__slug__in={slug for slug, _ in keys}, external_id__in={ext for _, ext in keys}
    ).values_list("pk", "channel__slug", "external_id", "number")
    by_key = {f"{slug}/{ext}": _order(pk, number or ext) for pk, slug, ext, number in rows}
    return {i.pk: by_key[i.record_key] for i in issues if i.record_key in by_key}


def shipment_targets(issues: list[SyncIssue]) -> dict[int, Target]:
    """Shipment issues are keyed by the fulfillment system's shipment id, on the channel that shipped or sells."""
    channel_ids = {i.channel_id for i in issues}
    rows = Shipment.objects.filter(external_id__in={i.record_key for i in issues}).values_list(
        "pk", "channel_id", "order__channel_id", "external_id"
    )
    found = {}
    for pk, shipped_by, sold_by, ext in rows:
        for channel_id in {shipped_by, sold_by} & channel_ids:
            found[(channel_id, ext)] = Target(f"shipment {ext}", reverse("admin:orders_shipment_change", args=[pk]))
    return matched(issues, found)


def _order(pk: int, number: str) -> Target:
    return Target(f"order {number}", reverse("admin:orders_order_change", args=[pk]))


def register_targets() -> None:
    register_target(ORDER_FLOWS, order_targets)
    register_target(["orders.submit"], submission_targets)
    register_target(["shipments.download", "shipments.upload"], shipment_targets)
