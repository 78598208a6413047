"""Catalog download: N items from the fulfillment system and N listings from a channel, auto-mapped, through the
catalog flows' own services (catalog.items_download, catalog.listings_download) against a per-row
`update_or_create` loop over the same payloads, at two sizes for the growth.

Records are built in memory (no HTTP): the figures are the database work of a download. N is 100 and 500
(tiny), 2k and 10k (small) or 10k and 100k (full). Items come as styles of 3 colours x 3 sizes, 1% of them bundles of two components;
listings carry the item's SKU (recognised by SKU pattern), or a channel SKU of their own with the item's UPC
(recognised by UPC), or neither (unmapped), with images, attributes and aliases as data.
The baseline runs in one transaction (kinder to it than a commit per row, which costs PostgreSQL a WAL flush
each): `Item.objects.update_or_create` per item (components deleted and created per bundle),
`ItemMapping.objects.update_or_create` per listing, then the same set-based auto-mapping as ours. It costs the
same queries for every row, so on "full" it runs on the first BASELINE_ROWS payloads and is scaled linearly to
N (which flatters it: its lookups get slower as the tables grow). Both sides start from empty tables; every
figure comes from this run. Target: baseline / ours >= 20.
"""

import contextlib
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction

from catalog.automap import mapping_automap
from catalog.items_download import items_download
from catalog.listings_download import listings_download
from catalog.models import BundleComponent, Item, ItemMapping, MappingStatus
from catalog.sync_common import FLOW
from integrations.connectors.records import CatalogItem, Listing
from integrations.flows import RunReport
from integrations.models import Channel, ChannelKind, ChannelRole, SyncCursor
from tests.benchmarks.table import BenchRow, measured

ROWS = {"tiny": (100, 500), "small": (2_000, 10_000), "full": (10_000, 100_000)}  # two, for the growth
BASELINE_ROWS = {"tiny": 500, "small": 10_000, "full": 20_000}
PREFIX = "CB"  # this benchmark's items, apart from any other benchmark's
COLORS, SIZES = ("RED", "BLU", "BLK"), ("S", "M", "L")
START = datetime(2026, 11, 1, tzinfo=UTC)


def run(size: str) -> list[str | BenchRow]:
    lines: list[str | BenchRow] = []
    for rows in ROWS[size]:
        lines += _run(rows, min(rows, BASELINE_ROWS[size]), target=20 if size != "tiny" else None)
    return lines


def _run(rows: int, sample: int, *, target: float | None) -> list[str | BenchRow]:
    oms, shop = _channels()
    items, listings = _items(rows), _listings(rows)
    _clear(oms, shop)
    ours, ours_queries, peak = _ours(oms, shop, items, listings)
    mapped = _statuses(shop)
    again, again_queries, _ = _ours(oms, shop, items, listings)
    _clear(oms, shop)
    baseline, baseline_queries = _baseline(shop, items[:sample], listings[:sample])
    baseline_mapped = _statuses(shop)
    _clear(oms, shop)
    if sample == rows:
        assert mapped == baseline_mapped, (mapped, baseline_mapped)  # both sides did the same work
    scaled = baseline * rows / sample
    sampled = "" if sample == rows else f"{sample:,} items and listings of {rows:,}, scaled linearly"
    per_row = sum(baseline_queries.values()) / (2 * sample)
    return [
        f"database: {connection.vendor}; {rows} items ({rows // 100} bundles), {rows} listings",
        f"catalog download queries: {_breakdown(ours_queries)}; per-row update_or_create: "
        f"{sum(baseline_queries.values())} queries for {sample} + {sample} rows, {per_row:.1f} a row "
        f"({_breakdown(baseline_queries)})",
        BenchRow("catalog download (items + listings, auto-mapped)", rows, ours, "items", "per-row update_or_create",
                 scaled, sampled=sampled, queries=sum(ours_queries.values()), peak_mb=peak, target=target,
                 note="" if target else "tiny: fixed costs dominate, the target (20x) is for small/full"),
        f"listings after auto-mapping: {_outcome(mapped)}",
        BenchRow("catalog download, unchanged payloads again (0 writes)", rows, again, "items",
                 queries=sum(again_queries.values())),
    ]  # fmt: skip


def _channels() -> tuple[Channel, Channel]:
    oms, _ = Channel.objects.get_or_create(
        slug="bench-catalog-oms",
        defaults={"name": "Bench OMS", "kind": ChannelKind.OMS, "role": ChannelRole.FULFILLMENT},
    )
    shop, _ = Channel.objects.get_or_create(
        slug="bench-catalog-shop", defaults={"name": "Bench shop", "kind": ChannelKind.CHANNELADVISOR}
    )
    return oms, shop


def _items(rows: int) -> list[CatalogItem]:
    items = []
    for n in range(rows):
        style, color, size = divmod(n, 9)[0], COLORS[n // 3 % 3], SIZES[n % 3]
        number = f"{PREFIX}{style:06d}"
        items.append(
            CatalogItem(
                sku=f"{number}-{color}-X-{size}",
                item_number=number,
                color_code=color,
                prepack_run="X",
                size=size,
                upc=f"{800000000000 + n:012d}",
                description=f"Style {number} {color} {size}",
                wholesale_price=Decimal("12.50"),
                retail_price=Decimal("25.00"),
                updated_at=START + timedelta(seconds=n),
            )
        )
    for n in range(0, rows - rows % 100, 100):  # every hundredth item becomes a bundle of the next two
        items[n] = CatalogItem(**{**vars(items[n]), "components": ((items[n + 1].sku, 2), (items[n + 2].sku, 1))})
    return items


def _listings(rows: int) -> list[Listing]:
    listings = []
    for n in range(rows):
        item = _items_sku(n)
        if n % 10 == 9:  # matches nothing
            sku, upc = f"CH-UNKNOWN-{n}", ""
        elif n % 4 == 3:  # a channel SKU of its own; the UPC recognises it
            sku, upc = f"CH-{n:07d}", f"{800000000000 + n:012d}"
        else:
            sku, upc = item, ""
        data = {"images": [f"https://img.example.com/{sku}.jpg"], "attributes": {"Color": "x"}, "aliases": [f"M{n}"]}
        listings.append(
            Listing(sku=sku, product_id=str(100000 + n), upc=upc, title=f"Listing {n}", data=data, updated_at=START)
        )
    return listings


def _items_sku(n: int) -> str:
    return f"{PREFIX}{n // 9:06d}-{COLORS[n // 3 % 3]}-X-{SIZES[n % 3]}"


def _ours(oms: Channel, shop: Channel, items: list[CatalogItem], listings: list[Listing]):
    with _counting() as kinds, measured(queries=False) as measure:
        items_download(channel=oms, records=items, report=RunReport(flow=FLOW), dry_run=False)
        listings_download(channel=shop, records=listings, lookup=None, report=RunReport(flow=FLOW), dry_run=False)
    return measure.seconds, kinds, measure.peak_mb


def _baseline(shop: Channel, items: list[CatalogItem], listings: list[Listing]):
    started = time.perf_counter()
    with _counting() as kinds, transaction.atomic():
        for record in items:
            fields = {name: getattr(record, name) for name in ("item_number", "color_code", "prepack_run", "size")}
            fields |= {name: getattr(record, name) for name in ("upc", "description", "active")}
            fields |= {"wholesale_price": record.wholesale_price, "retail_price": record.retail_price}
            item, _ = Item.objects.update_or_create(sku=record.sku, defaults=fields)
            if record.components:
                BundleComponent.objects.filter(bundle=item).delete()
                for sku, quantity in record.components:
                    part, _ = Item.objects.get_or_create(sku=sku, defaults={"item_number": sku})
                    BundleComponent.objects.create(bundle=item, component=part, quantity=quantity)
        for record in listings:
            ItemMapping.objects.update_or_create(
                channel=shop,
                channel_sku=record.sku,
                defaults={
                    "channel_product_id": record.product_id,
                    "channel_upc": record.upc,
                    "title": record.title,
                    "data": record.data,
                },
            )
        mapping_automap(channel=shop)
    return time.perf_counter() - started, kinds


@contextlib.contextmanager
def _counting():
    """Statements run, by their first word (a wrapper: no query log, no cap, next to no cost)."""
    kinds: Counter = Counter()

    def count(execute, sql, params, many, context):
        kinds[sql.split(None, 1)[0].upper()] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield kinds


def _clear(oms: Channel, shop: Channel) -> None:
    ItemMapping.objects.filter(channel=shop).delete()
    BundleComponent.objects.filter(bundle__item_number__startswith=PREFIX).delete()
    Item.objects.filter(item_number__startswith=PREFIX).delete()
    SyncCursor.objects.filter(channel__in=[oms, shop]).delete()


def _statuses(shop: Channel) -> Counter:
    return Counter(ItemMapping.objects.filter(channel=shop).values_list("status", flat=True))


def _outcome(statuses: Counter) -> str:
    return ", ".join(f"{statuses[s]} {s}" for s in MappingStatus.values if statuses[s])


def _breakdown(kinds: Counter) -> str:
    return ", ".join(f"{count} {kind}" for kind, count in kinds.most_common())
