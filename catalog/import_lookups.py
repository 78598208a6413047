"""What one chunk of a mapping import refers to, fetched with one query per kind: channels, items by SKU and by
UPC, and the listings the chunk names as they are."""

from collections import defaultdict
from typing import NamedTuple

from django.db.models import QuerySet

from catalog.keys import upc_key, upc_variants
from catalog.models import Item, ItemMapping
from integrations.models import Channel

_CHANNELS_CACHED = 1000  # unknown channel slugs remembered across chunks (a hostile file can name millions)


class Row(NamedTuple):
    number: int
    values: tuple[str, ...]
    channel: str
    channel_sku: str
    item_sku: str
    item_upc: str
    product_id: str
    channel_upc: str
    ignore: bool


class Current(NamedTuple):
    item_id: int | None
    status: str
    product_id: str
    channel_upc: str


class Lookups:
    """What one chunk of rows refers to, fetched with one query per kind."""

    def __init__(self) -> None:
        self.items_by_sku: dict[str, tuple[int, bool]] = {}
        self.items_by_upc: dict[str, list[tuple[int, bool, str]]] = defaultdict(list)
        self.existing: dict[tuple[int | None, str], Current] = {}
        self.item_skus: dict[int, str] = {}  # item id -> SKU, for the preview's before and after

    @classmethod
    def load(cls, chunk: list[Row], channels: dict[str, int | None]) -> "Lookups":
        lookups = cls()
        unseen = {row.channel for row in chunk} - channels.keys()
        if unseen:
            found = dict(Channel.objects.filter(slug__in=unseen).values_list("slug", "pk"))
            channels.update(found)
            if len(channels) < _CHANNELS_CACHED:  # unknown slugs are remembered too, up to a point
                channels.update({slug: None for slug in unseen - found.keys()})
        skus = {row.item_sku for row in chunk if row.item_sku}
        if skus:
            found = Item.objects.filter(sku__in=skus).values_list("sku", "pk", "active")
            lookups.items_by_sku = {sku: (pk, active) for sku, pk, active in found}
        upcs = set().union(*(upc_variants(row.item_upc) for row in chunk if row.item_upc))
        if upcs:
            for upc, pk, active, sku in Item.objects.filter(upc__in=upcs).values_list("upc", "pk", "active", "sku"):
                lookups.items_by_upc[upc_key(upc)].append((pk, active, sku))
        lookups.existing, lookups.item_skus = _existing(chunk, channels)
        lookups.item_skus.update({pk: sku for sku, (pk, _) in lookups.items_by_sku.items()})
        for hits in lookups.items_by_upc.values():
            lookups.item_skus.update({pk: sku for pk, _, sku in hits})
        return lookups

    def item_for(self, row: Row) -> tuple[int | None, str | None]:
        """The active item a row names by item_sku and/or item_upc, or why it names none."""
        by_sku = by_upc = None
        if row.item_sku:
            if row.item_sku not in self.items_by_sku:
                return None, f"unknown item_sku {row.item_sku}"
            by_sku, active = self.items_by_sku[row.item_sku]
            if not active:
                return None, f"item_sku {row.item_sku} is an inactive item"
        if row.item_upc:
            hits = self.items_by_upc.get(upc_key(row.item_upc), [])
            if len(hits) != 1:
                names = ", ".join(sorted(sku for _, _, sku in hits))
                return (
                    None,
                    f"item_upc {row.item_upc} belongs to several items: {names}"
                    if hits
                    else f"no item has UPC {row.item_upc}",
                )
            by_upc, active, sku = hits[0]
            if not active:
                return None, f"item_upc {row.item_upc} belongs to inactive item {sku}"
        if by_sku and by_upc and by_sku != by_upc:
            return None, f"item_sku {row.item_sku} and item_upc {row.item_upc} name different items"
        return by_sku or by_upc, None


def _existing(
    chunk: list[Row], channels: dict[str, int | None]
) -> tuple[dict[tuple[int | None, str], Current], dict[int, str]]:
    """The listings the chunk names as they are, and the SKUs of their items (one query, the item joined)."""
    channel_ids = {channels.get(row.channel) for row in chunk} - {None}
    if not channel_ids:
        return {}, {}
    found: QuerySet = ItemMapping.objects.filter(
        channel_id__in=channel_ids, channel_sku__in={row.channel_sku for row in chunk}
    ).values_list("channel_id", "channel_sku", "item_id", "status", "channel_product_id", "channel_upc", "item__sku")
    existing, skus = {}, {}
    for channel_id, sku, item_id, status, product_id, upc, item_sku in found:
        existing[(channel_id, sku)] = Current(item_id, status, product_id, upc)
        if item_id is not None:
            skus[item_id] = item_sku
    return existing, skus
