"""The items a conflicting listing could be mapped to: the active items auto-mapping found for it (its UPC, its
SKU patterns, or for a NuORDER listing its style, colour and size field by field), for the mapping screen's one-click choices. One query for a whole page of listings."""

from collections.abc import Sequence

from django.db.models import Q

from catalog.automap import item_sku_keys
from catalog.keys import listing_variant, sku_key, upc_key, upc_variants, variant_key
from catalog.models import Item, ItemMapping, MappingStatus

SHOWN = 10


def mapping_candidates(*, mappings: Sequence[ItemMapping]) -> dict[int, list[Item]]:
    """{listing id: its candidate items, by SKU} for the listings in conflict among `mappings`."""
    conflicts = [m for m in mappings if m.status == MappingStatus.CONFLICT]
    if not conflicts:
        return {}
    variants = {m.pk: listing_variant(m.data) for m in conflicts}
    numbers = {prefix for m in conflicts for prefix in _item_numbers(m.channel_sku)}
    numbers |= {form for v in variants.values() if v for form in (v[0], v[0].strip().upper(), v[0].strip().lower())}
    upcs = {variant for m in conflicts for variant in upc_variants(m.channel_upc)}
    matching = Q(item_number__in=numbers) | (Q(upc__in=upcs) if upcs else Q(pk__in=[]))
    items = list(Item.objects.filter(matching, active=True).order_by("sku")[:2000])
    keys = {item.pk: item_sku_keys(item.item_number, item.color_code, item.prepack_run, item.size) for item in items}
    found = {}
    for mapping in conflicts:
        sku, upc, variant = sku_key(mapping.channel_sku), upc_key(mapping.channel_upc), variants[mapping.pk]
        found[mapping.pk] = [
            item
            for item in items
            if (variant_key(*variant) == _variant(item) if variant else sku in keys[item.pk])
            or (upc and item.upc and upc_key(item.upc) == upc)
        ][:SHOWN]
    return found


def _variant(item: Item) -> tuple[str, str, str]:
    return variant_key(item.item_number, item.color_code, item.size)


def _item_numbers(channel_sku: str) -> set[str]:
    """Every item number a SKU pattern could start with: its dash-separated prefixes, as written and upper-cased
    (item numbers compare case-insensitively; the index serves an exact IN)."""
    parts = channel_sku.strip().split("-")
    prefixes = {"-".join(parts[:n]) for n in range(1, len(parts) + 1)}
    return prefixes | {p.upper() for p in prefixes} | {p.lower() for p in prefixes}
