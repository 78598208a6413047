"""Order lines from channel lines: the listing's mapping and item, and bundles split into component lines
from the hub's own BundleComponent rows (not the channel's idea of the bundle)."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from catalog.automap import mapping_automap
from catalog.models import BundleComponent, ItemMapping, MappingStatus
from integrations.bulk import rows_insert
from integrations.connectors.records import OrderLineRecord
from integrations.models import Channel
from orders.models import OrderLine

CENT = Decimal("0.01")
# Keys per IN (...) list: well under SQLite's bound-parameter limit.
LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class Listing:
    """What the hub knows of one channel SKU."""

    mapping_id: int
    status: str
    item_id: int | None

    @property
    def mapped_item_id(self) -> int | None:
        return self.item_id if self.status == MappingStatus.MAPPED else None


def _same_product(mapping: ItemMapping | None, line: OrderLineRecord) -> bool:
    return mapping is not None and mapping.channel_product_id in ("", line.product_id)


@dataclass(frozen=True)
class Component:
    item_id: int
    sku: str
    quantity: int


class CatalogLookup:
    """Mappings of one channel's SKUs and the components of bundle items, loaded a chunk at a time."""

    def __init__(self, channel: Channel):
        self.channel = channel
        self.listings: dict[str, Listing | None] = {}
        self.bundles: dict[int, tuple[Component, ...]] = {}

    def load(self, skus: Iterable[str]) -> None:
        """Fetch what is not cached yet: one query for the mappings, one for the bundles among their items."""
        wanted = sorted({s for s in skus if s not in self.listings})
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            self._load_mappings(wanted[start : start + LOOKUP_CHUNK])

    def forget(self, skus: Iterable[str]) -> None:
        for sku in skus:
            self.listings.pop(sku, None)

    def listing(self, sku: str) -> Listing | None:
        return self.listings.get(sku)

    def components(self, item_id: int | None) -> tuple[Component, ...]:
        return self.bundles.get(item_id, ()) if item_id else ()

    def ensure_listings(self, lines: Iterable[OrderLineRecord]) -> int:
        """Create a listing for every SKU the channel sold that the hub has never seen and auto-map it (by UPC
        or SKU pattern, as catalog downloads do), so it is mapped or shows on the mapping screen; how many."""
        lines = list(lines)
        new = {}
        for line in lines:
            if line.sku and self.listings.get(line.sku) is None and line.sku not in new:
                new[line.sku] = ItemMapping(
                    channel=self.channel,
                    channel_sku=line.sku[:200],
                    channel_product_id=line.product_id[:100],
                    channel_upc=line.upc[:20],
                    title=line.title[:300],
                    data=line.listing_data,  # NuORDER: the size's style, colour and size, for auto-mapping
                    status=MappingStatus.UNMAPPED,
                )
        if not new:
            return 0
        adopted = self._adopt(new, lines)
        ItemMapping.objects.bulk_create([m for sku, m in new.items() if sku not in adopted], ignore_conflicts=True)
        mapping_automap(mappings=ItemMapping.objects.filter(channel=self.channel, channel_sku__in=list(new)))
        self.forget(new)
        self.load(new)
        return len(new)

    def _adopt(self, new: dict[str, ItemMapping], lines: Iterable[OrderLineRecord]) -> set[str]:
        """New SKUs whose listing exists under a former key of the line (`former_skus`) for the same product (or
        none named): that listing is renamed, keeping its item, method and status. One query to find them."""
        formers = {line.sku: line for line in lines if line.sku in new and line.former_skus}
        wanted = {key for line in formers.values() for key in line.former_skus}
        if not wanted:
            return set()
        found = {
            m.channel_sku: m
            for m in ItemMapping.objects.filter(channel=self.channel, channel_sku__in=sorted(wanted)).only(
                "id", "channel_sku", "channel_product_id", "channel_upc", "data"
            )
        }
        adopted = set()
        for sku, line in formers.items():
            mapping = next((found.pop(k) for k in line.former_skus if _same_product(found.get(k), line)), None)
            if mapping is None:
                continue
            data = {**(mapping.data if isinstance(mapping.data, dict) else {}), **line.listing_data}
            ItemMapping.objects.filter(pk=mapping.pk).update(
                channel_sku=sku[:200], channel_upc=(line.upc or mapping.channel_upc)[:20], data=data
            )
            self.forget([mapping.channel_sku])
            adopted.add(sku)
        return adopted

    def _load_mappings(self, skus: list[str]) -> None:
        rows = ItemMapping.objects.filter(channel=self.channel, channel_sku__in=skus).values_list(
            "id", "channel_sku", "status", "item_id"
        )
        found = {sku: Listing(mapping_id, status, item_id) for mapping_id, sku, status, item_id in rows}
        for sku in skus:
            self.listings[sku] = found.get(sku)
        items = {listing.item_id for listing in found.values() if listing.item_id} - set(self.bundles)
        self._load_bundles(items)

    def _load_bundles(self, item_ids: set[int]) -> None:
        if not item_ids:
            return
        parts: dict[int, list[Component]] = {item_id: [] for item_id in item_ids}
        rows = (
            BundleComponent.objects.filter(bundle_id__in=item_ids)
            .order_by("bundle_id", "component__sku")
            .values_list("bundle_id", "component_id", "component__sku", "quantity")
        )
        for bundle_id, component_id, sku, quantity in rows:
            parts[bundle_id].append(Component(component_id, sku, quantity))
        self.bundles.update({item_id: tuple(found) for item_id, found in parts.items()})


Row = dict[str, Any]  # an OrderLine's values by attribute name (order_id, item_id, ...): see integrations/bulk.py
LineGroup = tuple[Row, list[Row]]


def build_lines(*, order_id: int, records: Iterable[OrderLineRecord], lookup: CatalogLookup) -> list[LineGroup]:
    """The order's lines: each channel line with its component lines when its item is a bundle."""
    groups = []
    for position, record in enumerate(records):
        parent = line_row(order_id=order_id, record=record, position=position, lookup=lookup)
        groups.append((parent, component_rows(parent, lookup)))
    return groups


def line_row(*, order_id: int, record: OrderLineRecord, position: int, lookup: CatalogLookup) -> Row:
    listing = lookup.listing(record.sku)
    item_id = listing.mapped_item_id if listing else None
    return {
        "order_id": order_id,
        "external_id": record.external_id,
        "position": position,
        "channel_sku": record.sku,
        "title": record.title[:300],
        "mapping_id": listing.mapping_id if listing else None,
        "item_id": item_id,
        "is_bundle": bool(lookup.components(item_id)),
        "quantity": record.quantity,
        "unit_price": record.unit_price.quantize(CENT),
        "attributes": record.attributes,
    }


def component_rows(parent: Row, lookup: CatalogLookup) -> list[Row]:
    """A bundle line's components: item and quantity x ratio; the bundle line carries the price."""
    return [
        {
            "order_id": parent["order_id"],
            "external_id": f"{parent['external_id']}/{part.sku}",
            "position": parent["position"],
            "title": f"{part.sku} (in {parent['channel_sku']})",
            "item_id": part.item_id,
            "quantity": parent["quantity"] * part.quantity,
            "unit_price": Decimal("0"),
            "attributes": parent.get("attributes") or {},  # a component ships in its bundle line's window
        }
        for part in lookup.components(parent["item_id"])
    ]


def lines_save(groups: list[LineGroup]) -> None:
    """Insert the lines: the channel lines first, then the components of bundle lines pointing at them."""
    rows_insert([parent for parent, _ in groups], model=OrderLine)
    bundles = [(parent, components) for parent, components in groups if components]
    if not bundles:
        return
    ids = {
        (order_id, external_id): pk
        for order_id, external_id, pk in OrderLine.objects.filter(
            order_id__in={parent["order_id"] for parent, _ in bundles}, parent__isnull=True, is_bundle=True
        ).values_list("order_id", "external_id", "id")
    }
    for parent, components in bundles:
        for component in components:
            component["parent_id"] = ids[(parent["order_id"], parent["external_id"])]
    rows_insert([c for _, components in bundles for c in components], model=OrderLine)
