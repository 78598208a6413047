"""The push ledger (the last quantity each channel accepted per listing per channel warehouse) and reading
back what a channel reports, which is how a push of unknown outcome is settled."""

from collections.abc import Iterable, Mapping
from datetime import datetime

from django.utils import timezone

from catalog.models import ItemMapping
from integrations.bulk import upsert
from integrations.connectors.capabilities import QuantitySource
from inventory.downloads import channel_warehouses_seen
from inventory.models import ChannelWarehouse, PushLedger

Key = tuple[int, int]  # (mapping id, channel warehouse id)
WipBuckets = tuple[tuple[str, int], ...]
# Above this many SKUs a read-back downloads the channel's whole quantity list instead of asking per SKU.
READ_ALL_ABOVE = 200


def ledger_for(*, channel_id: int) -> dict[Key, tuple[int, WipBuckets]]:
    """Every ledger row of the channel: key → (quantity, WIP buckets); one query."""
    rows = PushLedger.objects.filter(channel_warehouse__channel_id=channel_id).values_list(
        "mapping_id", "channel_warehouse_id", "quantity", "incoming"
    )
    return {
        (mapping_id, cw_id): (quantity, tuple(map(tuple, incoming)) if incoming else ())
        for mapping_id, cw_id, quantity, incoming in rows.iterator(chunk_size=10000)
    }


def ledger_write(entries: Mapping[Key, tuple[int, WipBuckets]], *, at: datetime | None = None) -> None:
    """Upsert ledger rows (key → quantity, WIP buckets) in one statement per 2,000 rows, in key order: two
    writers of overlapping keys (a chunk settling its pushes, the next run settling the same unknown ones) then
    lock the rows they share in one order, and never wait for each other both ways."""
    at = at or timezone.now()
    rows = [
        (mapping_id, cw_id, quantity, [list(bucket) for bucket in wip], at)
        for (mapping_id, cw_id), (quantity, wip) in sorted(entries.items())
    ]
    upsert(
        PushLedger,
        columns=("mapping_id", "channel_warehouse_id", "quantity", "incoming", "accepted_at"),
        rows=rows,
        unique=("mapping", "channel_warehouse"),
        update=("quantity", "incoming", "accepted_at"),
    )


def channel_quantities(
    *, connector: QuantitySource, channel_id: int, keys: Iterable[Key] | None = None, record_warehouses: bool = False
) -> dict[Key, int]:
    """What the channel reports now, per (listing, channel warehouse); for the given keys, or all of them.
    With `record_warehouses`, warehouses it names that the hub has not met become channel warehouses."""
    wanted = None if keys is None else set(keys)
    mapping_ids = None if wanted is None else {mapping_id for mapping_id, _ in wanted}
    few = mapping_ids is not None and len(mapping_ids) <= READ_ALL_ABOVE
    mappings = ItemMapping.objects.filter(channel_id=channel_id)
    if few:
        mappings = mappings.filter(id__in=mapping_ids)
    by_sku = dict(mappings.values_list("channel_sku", "id"))
    by_external = dict(ChannelWarehouse.objects.filter(channel_id=channel_id).values_list("external_id", "id"))
    skus = sorted(by_sku) if few else None
    found: dict[Key, int] = {}
    unknown: set[str] = set()
    for row in connector.quantities_download(skus=skus):
        mapping_id, warehouse_id = by_sku.get(row.sku), by_external.get(row.warehouse_id)
        if warehouse_id is None:
            unknown.add(row.warehouse_id)
        if mapping_id is not None and warehouse_id is not None:
            key = (mapping_id, warehouse_id)
            if wanted is None or key in wanted:
                found[key] = row.quantity
    if record_warehouses and unknown:
        # A warehouse the channel holds stock in that the hub had not met (NuORDER lists none): there to pair now.
        channel_warehouses_seen(channel_id=channel_id, names=unknown)
    return found
