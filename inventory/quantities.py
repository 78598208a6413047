"""The quantity calculator: what every mapped listing should show in every channel warehouse it feeds.

Set-based: a handful of queries fetch the listings, the targets, the stock, the incoming supply, the bundle
components and the pending orders of a channel, whatever the number of listings; everything after that is
Python over those rows (the formula runs column-wise, once per target). The steps, per target and item:

1. sum `on_hand`, `allocated`, `available` and incoming supply over the target's warehouses;
2. the source: available, on hand, or the formula over those sums, rounded down (+ incoming within N days);
3. minus pending orders (downloaded, not yet allocated by the fulfillment system);
4. bundles: pre-assembled stock + the minimum over components of floor(component quantity ÷ ratio);
5. minus the safety buffer (never below 0), times the share, capped at the maximum; below the minimum level, 0.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from catalog.models import BundleComponent, ItemMapping, MappingStatus
from integrations.connectors.records import VARIANT_KEY
from inventory.formula import incoming_days
from inventory.models import (
    ChannelWarehouse,
    IncomingSupply,
    InventoryPolicy,
    PushLedger,
    StockLevel,
    Warehouse,
    WarehousePairing,
)
from inventory.pending import pending_quantities
from inventory.policies import Rules

STOCK_FIELDS = ("on_hand", "allocated", "available")
ALIASES = {"open": "allocated"}
WipBuckets = tuple[tuple[str, int], ...]


class InventorySetupError(Exception):
    """The channel's warehouses or policy do not say where quantities go; a person must set them up."""


@dataclass(frozen=True)
class Target:
    """A channel warehouse and the internal warehouses whose stock it receives."""

    id: int
    external_id: str
    name: str
    warehouse_ids: frozenset[int]
    # The policy feeds it no more (unpaired, or combined mode chose another), but the hub pushed to it: its
    # last quantities would stay on the channel and be sold twice, so it gets 0 where it had more, once.
    retired: bool = False


@dataclass(frozen=True)
class Listing:
    mapping_id: int
    item_id: int
    sku: str
    product_id: str = ""
    upc: str = ""
    size: str = ""


@dataclass
class Facts:
    """The rows one calculation needs, fetched set-based."""

    listings: list[Listing]
    stock: list[tuple[int, int, int, int, int]]  # item, warehouse, on_hand, allocated, available
    supply: list[tuple[int, int, int, date | None]]  # item, warehouse, quantity, expected date
    components: dict[int, list[tuple[int, int]]]  # bundle item -> [(component item, ratio)]
    pending: dict[int, int]


@dataclass
class TargetTable:
    """Every step of the calculation for one target, per item id: what a breakdown shows."""

    target: Target
    variables: dict[str, dict[int, float]] = field(default_factory=dict)
    source: dict[int, int] = field(default_factory=dict)
    incoming_added: dict[int, int] = field(default_factory=dict)
    net: dict[int, int] = field(default_factory=dict)
    before_rules: dict[int, int] = field(default_factory=dict)
    final: dict[int, int] = field(default_factory=dict)
    wip: dict[int, WipBuckets] = field(default_factory=dict)


@dataclass(frozen=True)
class ListingQuantity:
    listing: Listing
    target: Target
    quantity: int
    wip: WipBuckets = ()


def targets_for(rules: Rules) -> list[Target]:
    """Where the channel's quantities go: its paired channel warehouses, or the combined total's one target."""
    channel_warehouses = list(
        ChannelWarehouse.objects.filter(channel_id=rules.channel_id, active=True)
        .order_by("id")
        .values_list("id", "external_id", "name")
    )
    if rules.mode == InventoryPolicy.Mode.COMBINED:
        return [_combined_target(rules, channel_warehouses)]
    paired: dict[int, set[int]] = defaultdict(set)
    pairs = WarehousePairing.objects.filter(
        channel_warehouse__channel_id=rules.channel_id, channel_warehouse__active=True, warehouse__active=True
    ).values_list("channel_warehouse_id", "warehouse_id")
    for channel_warehouse_id, warehouse_id in pairs:
        paired[channel_warehouse_id].add(warehouse_id)
    return [Target(pk, ext, name, frozenset(paired[pk])) for pk, ext, name in channel_warehouses if paired[pk]]


def retired_targets(*, channel_id: int, fed: list[Target]) -> list[Target]:
    """The channel's active warehouses that the hub has pushed to but that no longer receive quantities."""
    pushed = PushLedger.objects.filter(channel_warehouse=OuterRef("pk"))
    rows = (
        ChannelWarehouse.objects.filter(channel_id=channel_id, active=True)
        .exclude(id__in=[target.id for target in fed])
        .filter(Exists(pushed))
        .order_by("id")
        .values_list("id", "external_id", "name")
    )
    return [Target(pk, external_id, name, frozenset(), retired=True) for pk, external_id, name in rows]


def _combined_target(rules: Rules, channel_warehouses: list[tuple[int, str, str]]) -> Target:
    by_id = {row[0]: row for row in channel_warehouses}
    chosen = rules.combined_target_id or (channel_warehouses[0][0] if len(channel_warehouses) == 1 else None)
    if chosen not in by_id:
        raise InventorySetupError(
            "combined mode: choose the channel warehouse that receives the total (warehouse pairing screen)"
            if channel_warehouses
            else "the channel has no warehouses: run warehouses.download first"
        )
    warehouses = Warehouse.objects.filter(active=True).exclude(id__in=rules.excluded_warehouse_ids)
    pk, external_id, name = by_id[chosen]
    return Target(pk, external_id, name, frozenset(warehouses.values_list("id", flat=True)))


# Up to this many chosen listings are filtered in SQL; more are read with the channel's and filtered here
# (an IN list of 100,000 ids is beyond SQLite's bound-parameter limit, and slower than a full read anyway).
FILTER_IN_SQL = 2000


def mapped_listings(*, channel_id: int, mapping_ids: Iterable[int] | None = None) -> QuerySet[ItemMapping]:
    """The channel's listings that get quantities: mapped to an item, not ignored."""
    mappings = ItemMapping.objects.filter(channel_id=channel_id, status=MappingStatus.MAPPED, item__isnull=False)
    return mappings if mapping_ids is None else mappings.filter(id__in=list(mapping_ids))


def facts_fetch(*, rules: Rules, targets: list[Target], mapping_ids: Iterable[int] | None = None) -> Facts:
    """The rows the calculation reads: five queries (six with pending orders), whatever the listing count."""
    chosen = None if mapping_ids is None else set(mapping_ids)
    in_sql = chosen is not None and len(chosen) <= FILTER_IN_SQL
    mappings = mapped_listings(channel_id=rules.channel_id, mapping_ids=chosen if in_sql else None)
    # The size is the channel's own where the listing keeps it (NuORDER's `data.variant.size`), else the item's.
    fields = ("id", "item_id", "channel_sku", "channel_product_id", "channel_upc", "item__size", "item__upc")
    rows = mappings.values_list(*fields, f"data__{VARIANT_KEY}__size").iterator(chunk_size=5000)
    listings = [
        Listing(pk, item, sku, product_id or "", upc or item_upc or "", str(channel_size or size or ""))
        for pk, item, sku, product_id, upc, size, item_upc, channel_size in rows
        if chosen is None or pk in chosen
    ]
    items = mappings.values("item_id")
    components: dict[int, list[tuple[int, int]]] = defaultdict(list)
    rows = BundleComponent.objects.filter(bundle_id__in=items).values_list("bundle_id", "component_id", "quantity")
    for bundle_id, component_id, ratio in rows:
        components[bundle_id].append((component_id, ratio))
    needed = Q(item_id__in=items) | Q(
        item_id__in=BundleComponent.objects.filter(bundle_id__in=items).values("component_id")
    )
    warehouse_ids = set().union(*(t.warehouse_ids for t in targets))
    stock = list(
        StockLevel.objects.filter(needed, warehouse_id__in=warehouse_ids).values_list(
            "item_id", "warehouse_id", *STOCK_FIELDS
        )
    )
    supply = []
    if _needs_incoming(rules):
        supply = list(
            IncomingSupply.objects.filter(needed, warehouse_id__in=warehouse_ids, quantity__gt=0).values_list(
                "item_id", "warehouse_id", "quantity", "expected_date"
            )
        )
    pending = {}
    if rules.subtract_pending_orders:
        # A few listings (a preview, a push again) ask for their own items only; a whole channel for every item.
        few = {listing.item_id for listing in listings} | {c for parts in components.values() for c, _ in parts}
        pending = pending_quantities(item_ids=sorted(few) if in_sql else None)
    return Facts(listings, stock, supply, dict(components), pending)


def _needs_incoming(rules: Rules) -> bool:
    names = rules.formula.variables if rules.formula else frozenset()
    return bool(rules.incoming_days) or any(n == "incoming" or incoming_days(n) for n in names)


class Calculation:
    """Runs the steps for every target over fetched facts; `tables` keeps each step for breakdowns."""

    def __init__(self, rules: Rules, targets: list[Target], facts: Facts, today: date | None = None):
        self.rules, self.targets, self.facts = rules, targets, facts
        self.today = today or timezone.localdate()
        listing_items = {listing.item_id for listing in facts.listings}
        component_items = {c for b in listing_items for c, _ in facts.components.get(b, ())}
        self.items = sorted(listing_items | component_items)
        self.listing_items = listing_items
        self.tables = [self._table(target) for target in targets]

    def quantities(self) -> Iterator[ListingQuantity]:
        """The quantity of every listing in every target."""
        for table in self.tables:
            final, wip = table.final, table.wip
            for listing in self.facts.listings:
                yield ListingQuantity(listing, table.target, final[listing.item_id], wip.get(listing.item_id, ()))

    def _table(self, target: Target) -> TargetTable:
        table = TargetTable(target)
        if target.retired:
            table.final = dict.fromkeys(self.listing_items, 0)
            return table
        table.variables = self._variables(target)
        table.source, table.incoming_added = self._source(table.variables)
        pending = self.facts.pending if self.rules.subtract_pending_orders else {}
        table.net = {item: value - pending.get(item, 0) for item, value in table.source.items()}
        table.before_rules = {item: self._with_bundle(item, table.net) for item in self.listing_items}
        table.final = {item: apply_rules(value, self.rules) for item, value in table.before_rules.items()}
        if self.rules.incoming_as_wip and self.rules.incoming_days:
            table.wip = self._wip(target)
        return table

    def _variables(self, target: Target) -> dict[str, dict[int, float]]:
        sums: dict[int, list[int]] = {}
        warehouses = target.warehouse_ids
        for item, warehouse, on_hand, allocated, available in self.facts.stock:
            if warehouse in warehouses:
                row = sums.get(item)
                if row is None:
                    sums[item] = [on_hand, allocated, available]
                else:
                    row[0] += on_hand
                    row[1] += allocated
                    row[2] += available
        variables = {name: {item: row[i] for item, row in sums.items()} for i, name in enumerate(STOCK_FIELDS)}
        for name in self._incoming_names():
            variables[name] = self._incoming(target, None if name == "incoming" else incoming_days(name))
        return variables

    def _incoming_names(self) -> set[str]:
        names = {n for n in (self.rules.formula.variables if self.rules.formula else ()) if n.startswith("incoming")}
        if self.rules.incoming_days and not self.rules.incoming_as_wip:
            names.add(f"incoming_{self.rules.incoming_days}d")
        return names

    def _incoming(self, target: Target, days: int | None) -> dict[int, float]:
        horizon = None if days is None else self.today + timedelta(days=days)
        totals: dict[int, float] = defaultdict(float)
        for item, warehouse, quantity, expected in self.facts.supply:
            if warehouse in target.warehouse_ids and (horizon is None or (expected and expected <= horizon)):
                totals[item] += quantity
        return dict(totals)

    def _source(self, variables: dict[str, dict[int, float]]) -> tuple[dict[int, int], dict[int, int]]:
        items, rules = self.items, self.rules
        if rules.formula is not None:
            columns = {
                name: [variables[ALIASES.get(name, name)].get(item, 0) for item in items]
                for name in rules.formula.variables
            }
            values = [int(v // 1) for v in rules.formula.evaluate_columns(columns, len(items))]
        else:
            column = variables[rules.source]
            values = [int(column.get(item, 0)) for item in items]
        source = dict(zip(items, values, strict=True))
        added: dict[int, int] = {}
        if rules.incoming_days and not rules.incoming_as_wip and rules.formula is None:
            incoming = variables[f"incoming_{rules.incoming_days}d"]
            added = {item: int(incoming.get(item, 0)) for item in items}
            source = {item: value + added[item] for item, value in source.items()}
        return source, added

    def _with_bundle(self, item: int, net: dict[int, int]) -> int:
        parts = self.facts.components.get(item)
        if not parts:
            return net.get(item, 0)
        # A component with no stock row counts as 0, so the bundle is 0 too.
        buildable = min(max(net.get(component, 0), 0) // ratio for component, ratio in parts)
        return max(net.get(item, 0), 0) + buildable

    def _wip(self, target: Target) -> dict[int, WipBuckets]:
        horizon = self.today + timedelta(days=self.rules.incoming_days)
        buckets: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for item, warehouse, quantity, expected in self.facts.supply:
            if warehouse in target.warehouse_ids and expected and expected <= horizon and item in self.listing_items:
                buckets[item][max(expected, self.today).isoformat()] += quantity
        return {item: tuple(sorted(by_date.items())) for item, by_date in buckets.items()}


def apply_rules(quantity: int, rules: Rules) -> int:
    """Buffer (never below 0), share, maximum, then the minimum level (below it, 0)."""
    quantity = max(quantity - rules.buffer, 0)
    quantity = quantity * rules.share_percent // 100
    if rules.maximum is not None:
        quantity = min(quantity, rules.maximum)
    return 0 if quantity < rules.minimum_level else quantity


def quantities_compute(*, rules: Rules, mapping_ids: Iterable[int] | None = None) -> Calculation:
    """The calculation for a channel's listings (all, or the given mappings); read `.quantities()`."""
    targets = targets_for(rules)
    targets += retired_targets(channel_id=rules.channel_id, fed=targets)
    return Calculation(rules, targets, facts_fetch(rules=rules, targets=targets, mapping_ids=mapping_ids))
