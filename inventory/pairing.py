"""Which internal warehouses feed which channel warehouse: the pairing screen's service and selectors."""

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Sum

from integrations.models import Channel
from inventory.models import ChannelWarehouse, InventoryPolicy, StockLevel, Warehouse, WarehousePairing
from inventory.policies import policy_for, policy_rules
from inventory.quantities import InventorySetupError, targets_for


@dataclass
class Feed:
    """One channel warehouse and the internal warehouses whose stock it receives, with their totals."""

    channel_warehouse: ChannelWarehouse
    warehouses: list[Warehouse] = field(default_factory=list)
    items: int = 0
    available: int = 0
    on_hand: int = 0


@dataclass(frozen=True)
class Suggestion:
    """An unpaired channel warehouse and the one internal warehouse its name or code matches loosely."""

    channel_warehouse: ChannelWarehouse
    warehouse: Warehouse


def _loose(text: str) -> str:
    """A name compared without case, spaces or punctuation: "East  Coast-DC" and "east coast dc" agree."""
    return re.sub(r"[\W_]+", "", text.casefold())


def pairing_suggestions(*, channel: Channel) -> list[Suggestion]:
    """Each active, unpaired channel warehouse whose name or code matches exactly one internal warehouse's name
    or code, ignoring case, spaces and punctuation (Extensiv's warehouses have no code: only names)."""
    unpaired = ChannelWarehouse.objects.filter(channel=channel, active=True, pairings__isnull=True).order_by("name")
    by_key: dict[str, set[int]] = defaultdict(set)
    warehouses = Warehouse.objects.in_bulk()
    for warehouse in warehouses.values():
        for key in {_loose(warehouse.name), _loose(warehouse.code)} - {""}:
            by_key[key].add(warehouse.pk)
    suggestions = []
    for cw in unpaired:
        matches = set().union(*(by_key.get(key, set()) for key in {_loose(cw.name), _loose(cw.code)} - {""}))
        if len(matches) == 1:
            suggestions.append(Suggestion(cw, warehouses[matches.pop()]))
    return suggestions


@transaction.atomic
def pairing_suggestions_accept(*, channel: Channel, channel_warehouse_ids: Iterable[int]) -> int:
    """Pair the chosen channel warehouses as suggested (still unpaired ones only); the number paired."""
    chosen = set(channel_warehouse_ids)
    pairs = [
        WarehousePairing(channel_warehouse=s.channel_warehouse, warehouse=s.warehouse)
        for s in pairing_suggestions(channel=channel)
        if s.channel_warehouse.pk in chosen
    ]
    WarehousePairing.objects.bulk_create(pairs, ignore_conflicts=True)
    return len(pairs)


@transaction.atomic
def pairing_save(
    *,
    channel: Channel,
    pairs: Mapping[int, Iterable[int]],
    mode: str,
    excluded_warehouse_ids: Iterable[int] = (),
    combined_target_id: int | None = None,
) -> InventoryPolicy:
    """Replace the channel's pairings (channel warehouse id → internal warehouse ids) and its combined-mode
    choices, all in one transaction; the saved policy."""
    own = set(ChannelWarehouse.objects.filter(channel=channel).values_list("id", flat=True))
    unknown = set(pairs) - own
    if unknown or (combined_target_id and combined_target_id not in own):
        raise ValueError("a channel warehouse of another channel was submitted")
    WarehousePairing.objects.filter(channel_warehouse__channel=channel).delete()
    WarehousePairing.objects.bulk_create(
        WarehousePairing(channel_warehouse_id=cw_id, warehouse_id=wh_id)
        for cw_id, warehouse_ids in pairs.items()
        for wh_id in set(warehouse_ids)
    )
    policy = policy_for(channel_id=channel.pk)
    policy.mode, policy.combined_target_id = mode, combined_target_id
    policy.full_clean(exclude=["channel"])
    policy.save()
    policy.excluded_warehouses.set(list(excluded_warehouse_ids))
    return policy


def pairing_effect(*, channel: Channel) -> tuple[list[Feed], str]:
    """Which stock now feeds which channel warehouse under the saved policy; a problem to show, or ""."""
    try:
        targets = targets_for(policy_rules(policy_for(channel_id=channel.pk)))
    except InventorySetupError as exc:
        return [], str(exc)
    warehouses = Warehouse.objects.in_bulk()
    totals = {
        row["warehouse_id"]: row
        for row in StockLevel.objects.order_by()
        .values("warehouse_id")
        .annotate(items=Count("id"), available=Sum("available"), on_hand=Sum("on_hand"))
    }
    by_id = ChannelWarehouse.objects.in_bulk([t.id for t in targets])
    feeds = []
    for target in targets:
        feed = Feed(by_id[target.id], sorted((warehouses[w] for w in target.warehouse_ids), key=lambda w: w.code))
        for warehouse in feed.warehouses:
            total = totals.get(warehouse.pk, {})
            feed.items += total.get("items") or 0
            feed.available += total.get("available") or 0
            feed.on_hand += total.get("on_hand") or 0
        feeds.append(feed)
    return feeds, ""


def pairings_of(*, channel: Channel) -> dict[int, set[int]]:
    """Channel warehouse id → the internal warehouse ids paired with it."""
    pairs: dict[int, set[int]] = defaultdict(set)
    rows = WarehousePairing.objects.filter(channel_warehouse__channel=channel)
    for cw_id, wh_id in rows.values_list("channel_warehouse_id", "warehouse_id"):
        pairs[cw_id].add(wh_id)
    return pairs
