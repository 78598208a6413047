"""The listing or item a catalog or inventory issue is about (integrations/issue_targets.py), one query per flow."""

from django.urls import reverse

from catalog.models import Item, ItemMapping
from integrations.issue_targets import Target, matched, register_target
from integrations.models import SyncIssue


def listing_targets(issues: list[SyncIssue]) -> dict[int, Target]:
    """Issues keyed by the channel SKU (catalog.download on a sales channel) or `<SKU>@<warehouse>` (pushes)."""
    sku = _listing_sku
    rows = ItemMapping.objects.filter(
        channel_id__in={i.channel_id for i in issues}, channel_sku__in={sku(i.record_key) for i in issues}
    ).values_list("pk", "channel_id", "channel_sku")
    found = {
        (channel_id, channel_sku): Target(
            f"listing {channel_sku}", reverse("admin:catalog_itemmapping_change", args=[pk])
        )
        for pk, channel_id, channel_sku in rows
    }
    listings = matched(issues, found, key=sku)
    rest = [i for i in issues if i.pk not in listings]
    return {**listings, **(item_targets(rest) if rest else {})}


def item_targets(issues: list[SyncIssue]) -> dict[int, Target]:
    """catalog.download on the fulfillment system: issues keyed by the item's SKU."""
    rows = Item.objects.filter(sku__in={i.record_key for i in issues}).values_list("pk", "sku")
    by_sku = {sku: Target(f"item {sku}", reverse("admin:catalog_item_change", args=[pk])) for pk, sku in rows}
    return {i.pk: by_sku[i.record_key] for i in issues if i.record_key in by_sku}


def _listing_sku(record_key: str) -> str:
    return record_key.rsplit("@", 1)[0]


def register_targets() -> None:
    register_target(["catalog.download", "inventory.upload"], listing_targets)
