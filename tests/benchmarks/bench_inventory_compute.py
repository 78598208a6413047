"""Computing and diffing quantities: the set-based calculator vs a per-listing ORM loop over the same data.

N listings (two sizes, for the growth: tiny 100 and 300, small 2k and 10k, full 10k and 100k) x 3 channel
warehouses (each paired with one internal warehouse, one also with a second), a formula over on hand, open and
incoming supply, 1% bundles of two components, a buffer and a share, compared with a ledger in which one
quantity in ten differs. The per-listing loop is what the code would look like without the
calculator (a few queries per listing and warehouse); it runs on a sample of listings and is extrapolated to
N, and its answers are checked against the calculator's for that sample. Reported: the ratio, the
calculator's query count (a handful, whatever N is) and its peak Python memory (tracemalloc, separate run).
"""

import os
import time
import tracemalloc
from datetime import timedelta

from django.db.models import Sum
from django.utils import timezone

from tests.benchmarks.table import BenchRow, measured

SIZES = {"tiny": (100, 300), "small": (2_000, 10_000), "full": (10_000, 100_000)}  # two, for the growth
SAMPLE = {"tiny": 100, "small": 300, "full": 500}
TARGET_RATIO = 50
MEMORY_LIMIT_MB = 500
FORMULA = "on_hand - open + incoming_30d * 0.5"


def run(size: str) -> list[str | BenchRow]:
    override = os.environ.get("BENCH_INVENTORY_LISTINGS")
    lines: list[str | BenchRow] = []
    for n in (int(override),) if override else SIZES[size]:
        lines += _run(n, size)
    return lines


def _run(n: int, size: str) -> list[str | BenchRow]:
    started = time.perf_counter()
    channel, rules = _seed(n)
    seeded = time.perf_counter() - started

    with measured() as fast:
        changes = len(_set_based(rules, channel.pk))
    peak_mb = _peak_memory_mb(rules, channel.pk)
    sample = _sample(SAMPLE[size] if n > SAMPLE[size] else n, channel)
    loop_seconds, loop_changes = _timed_loop(rules, sample)
    _check_same_answers(rules, channel.pk, sample, loop_changes)
    per_listing = loop_seconds / len(sample)
    loop_total = per_listing * n
    memory = "ok" if peak_mb < MEMORY_LIMIT_MB else f"ABOVE {MEMORY_LIMIT_MB} MB"
    sampled = "" if len(sample) == n else f"{len(sample)} of {n:,} listings (answers identical), scaled linearly"
    return [
        f"{n:,} listings x 3 channel warehouses = {3 * n:,} quantities (data seeded in {seeded:.1f}s); "
        f"{changes:,} changes found; per-listing loop {per_listing * 1000:.2f} ms/listing",
        BenchRow("inventory compute + diff vs per-listing ORM loop", n, fast.seconds, "listings",
                 "per-listing ORM loop", loop_total, sampled=sampled, queries=fast.queries, peak_mb=fast.peak_mb,
                 target=TARGET_RATIO if size != "tiny" else None,
                 note="tiny: fixed costs dominate, the target is for small/full" if size == "tiny" else ""),
        f"peak Python memory of the computation (tracemalloc): {peak_mb:.0f} MB ({memory})",
    ]  # fmt: skip


def _seed(n: int):
    from catalog.models import BundleComponent, Item, ItemMapping, MappingStatus
    from integrations.models import Channel
    from inventory.models import (
        ChannelWarehouse,
        IncomingSupply,
        InventoryPolicy,
        PushLedger,
        StockLevel,
        Warehouse,
        WarehousePairing,
    )
    from inventory.policies import policy_rules

    channel = Channel.objects.create(name="Bench", slug=f"bench-inventory-{n}", kind="channeladvisor")
    warehouses = Warehouse.objects.bulk_create([Warehouse(code=f"BW{n}-{i}", name=f"Bench {i}") for i in range(3)])
    targets = ChannelWarehouse.objects.bulk_create(
        [ChannelWarehouse(channel=channel, external_id=str(100 + i), name=f"DC{i}") for i in range(3)]
    )
    pairs = [(targets[i], warehouses[i]) for i in range(3)] + [(targets[0], warehouses[1])]
    WarehousePairing.objects.bulk_create([WarehousePairing(channel_warehouse=c, warehouse=w) for c, w in pairs])
    items = Item.objects.bulk_create(
        [Item(sku=f"B{n}-{i:07d}", item_number=f"B{n}-{i:07d}") for i in range(n)], batch_size=5000
    )
    bundles = items[: max(1, n // 100)]
    bundle_ids = {bundle.pk for bundle in bundles}
    components = items[-2 * len(bundles) :]
    BundleComponent.objects.bulk_create(
        [
            BundleComponent(bundle=bundle, component=part, quantity=1 + k)
            for i, bundle in enumerate(bundles)
            for k, part in enumerate(components[2 * i : 2 * i + 2])
        ],
        batch_size=5000,
    )
    StockLevel.objects.bulk_create(
        [
            StockLevel(
                item=item,
                warehouse=w,
                on_hand=(i * 7 + j) % 50,
                allocated=(i + j) % 5,
                available=max((i * 7 + j) % 50 - (i + j) % 5, 0),
            )
            for i, item in enumerate(items)
            for j, w in enumerate(warehouses)
            if item.pk not in bundle_ids
        ],
        batch_size=5000,
    )
    soon = timezone.localdate() + timedelta(days=10)
    IncomingSupply.objects.bulk_create(
        [
            IncomingSupply(item=item, warehouse=warehouses[0], quantity=12, expected_date=soon, purchase_order="PO-B")
            for item in items[::10]
        ],
        batch_size=5000,
    )
    mappings = ItemMapping.objects.bulk_create(
        [ItemMapping(channel=channel, channel_sku=item.sku, item=item, status=MappingStatus.MAPPED) for item in items],
        batch_size=5000,
    )
    policy = InventoryPolicy.objects.create(
        channel=channel, source="formula", formula=FORMULA, buffer=2, share_percent=80
    )
    rules = policy_rules(policy)
    _ledger_from_current(rules, channel.pk, PushLedger, mappings)
    return channel, rules


def _ledger_from_current(rules, channel_id, ledger_model, mappings) -> None:
    """A ledger that holds today's quantities, except one in ten: those are what the diff must find."""
    from inventory.quantities import quantities_compute

    now = timezone.now()
    rows = [
        ledger_model(
            mapping_id=row.listing.mapping_id,
            channel_warehouse_id=row.target.id,
            accepted_at=now,
            quantity=row.quantity + (1 if row.listing.mapping_id % 10 == 0 else 0),
        )
        for row in quantities_compute(rules=rules).quantities()
    ]
    ledger_model.objects.bulk_create(rows, batch_size=5000)


def _set_based(rules, channel_id: int):
    from integrations.flows import RunReport
    from inventory.ledger import ledger_for
    from inventory.quantities import quantities_compute
    from inventory.upload import changes_diff

    changes, *_ = changes_diff(
        quantities_compute(rules=rules), ledger_for(channel_id=channel_id), set(), RunReport("b")
    )
    return changes


def _peak_memory_mb(rules, channel_id: int) -> float:
    tracemalloc.start()
    try:
        _set_based(rules, channel_id)
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def _sample(count: int, channel) -> list:
    from catalog.models import ItemMapping

    mappings = ItemMapping.objects.filter(channel=channel).order_by("id")
    step = max(1, mappings.count() // count)
    ids = list(mappings.values_list("id", flat=True)[::step][:count])
    bundle_ids = list(mappings.filter(item__components__isnull=False).values_list("id", flat=True)[:5])
    return sorted(set(ids[: count - len(bundle_ids)]) | set(bundle_ids))


def _timed_loop(rules, mapping_ids: list[int]) -> tuple[float, dict]:
    started = time.perf_counter()
    changes = _per_listing_loop(rules, mapping_ids)
    return time.perf_counter() - started, changes


def _per_listing_loop(rules, mapping_ids: list[int]) -> dict:
    """The natural ORM version: per listing, its item's components and pending orders; per listing and channel
    warehouse, the stock, the incoming supply and the ledger row. The targets are read once, as a careful
    loop would."""
    from catalog.models import BundleComponent, ItemMapping
    from inventory.models import IncomingSupply, PushLedger, StockLevel
    from inventory.pending import pending_quantities
    from inventory.quantities import apply_rules, targets_for

    horizon = timezone.localdate() + timedelta(days=30)
    targets = targets_for(rules)
    changes = {}

    def source(item_id: int, warehouse_ids, pending: dict) -> int:
        stock = StockLevel.objects.filter(item_id=item_id, warehouse_id__in=warehouse_ids).aggregate(
            on_hand=Sum("on_hand"), open=Sum("allocated")
        )
        incoming = IncomingSupply.objects.filter(
            item_id=item_id, warehouse_id__in=warehouse_ids, expected_date__lte=horizon
        ).aggregate(q=Sum("quantity"))["q"]
        values = {"on_hand": stock["on_hand"] or 0, "open": stock["open"] or 0, "incoming_30d": incoming or 0}
        return int(rules.formula.evaluate(values) // 1) - pending.get(item_id, 0)

    for mapping_id in mapping_ids:
        mapping = ItemMapping.objects.get(pk=mapping_id)
        parts = list(BundleComponent.objects.filter(bundle_id=mapping.item_id))
        pending = pending_quantities(item_ids=[mapping.item_id, *(p.component_id for p in parts)])
        for target in targets:
            quantity = source(mapping.item_id, target.warehouse_ids, pending)
            if parts:
                built = min(max(source(p.component_id, target.warehouse_ids, pending), 0) // p.quantity for p in parts)
                quantity = max(quantity, 0) + built
            quantity = apply_rules(quantity, rules)
            last = PushLedger.objects.filter(mapping=mapping, channel_warehouse_id=target.id).first()
            if last is None or last.quantity != quantity:
                changes[(mapping.pk, target.id)] = quantity
    return changes


def _check_same_answers(rules, channel_id: int, sample: list[int], loop_changes: dict) -> None:
    wanted = set(sample)
    fast = {c.key: c.row.quantity for c in _set_based(rules, channel_id) if c.key[0] in wanted}
    if fast != loop_changes:
        raise AssertionError(f"the per-listing loop and the calculator disagree: {len(fast)} vs {len(loop_changes)}")
