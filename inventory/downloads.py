"""Downloads into the inventory tables: stock and incoming supply from the fulfillment system, and the
warehouses of every channel. Upserts on natural keys in chunks; the cursor moves inside the chunk's transaction."""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from catalog.models import Item
from integrations.chunks import batched
from integrations.connectors.capabilities import StockSource
from integrations.connectors.records import StockLevelRecord, Supply, WarehouseRecord
from integrations.cursors import cursor_advance, cursor_window_start
from integrations.flows import RunReport
from integrations.models import Channel
from integrations.selectors import open_issue_keys
from inventory.models import ChannelWarehouse, IncomingSupply, StockLevel, Warehouse, WarehousePairing

STOCK_FLOW = "inventory.download"
SUPPLY_CURSOR = "inventory.download:supply"  # a second position of the same flow: supply pages on its own
OVERLAP = timedelta(minutes=5)  # re-read window: rows read twice are harmless upserts
CHUNK = 1000
UNKNOWN_ITEM = "the item is not in the catalog yet (run catalog.download on the fulfillment channel)"


def read_since(*, channel: Channel, cursor: str, since: datetime | None) -> datetime | None:
    """`since` when given, else the cursor minus the inventory's overlap window, else None (everything)."""
    return cursor_window_start(channel=channel, flow=cursor, since=since, overlap=OVERLAP)


def warehouses_upsert(records: Iterable[WarehouseRecord], *, report: RunReport, dry_run: bool) -> dict[str, int]:
    """Internal warehouses by code, created or renamed from the fulfillment system; code → id."""
    records = list(records)
    existing = {w.code: w for w in Warehouse.objects.filter(code__in=[r.code or r.external_id for r in records])}
    changed = []
    for record in records:
        code = record.code or record.external_id
        current = existing.get(code)
        if current is None:
            report.created += 1
        elif (current.name, current.active) != (record.name, record.active):
            report.updated += 1
        else:
            continue
        changed.append(Warehouse(code=code, name=record.name, active=record.active))
    if changed and not dry_run:
        Warehouse.objects.bulk_create(
            changed, update_conflicts=True, unique_fields=["code"], update_fields=["name", "active", "updated_at"]
        )
    return warehouse_ids(codes=[r.code or r.external_id for r in records], create=False)


def warehouse_ids(*, codes: Iterable[str], create: bool) -> dict[str, int]:
    """Ids of internal warehouses by code; with `create`, codes seen for the first time become warehouses."""
    codes = set(codes)
    if create:
        Warehouse.objects.bulk_create([Warehouse(code=code, name=code) for code in codes], ignore_conflicts=True)
    return dict(Warehouse.objects.filter(code__in=codes).values_list("code", "id"))


def stock_download(
    *, channel: Channel, connector: StockSource, report: RunReport, since: datetime | None, dry_run: bool
) -> None:
    """Stock per item and warehouse changed since the cursor, upserted; unchanged rows are not written."""
    open_keys = open_issue_keys(channel_id=channel.pk, flow=STOCK_FLOW)
    start = read_since(channel=channel, cursor=STOCK_FLOW, since=since)
    for chunk in batched(connector.inventory_download(since=start), CHUNK):
        with transaction.atomic():
            latest = _stock_chunk(chunk, report, open_keys, dry_run)
            if latest and not dry_run:
                # Rows come ordered by updated_at (docs/oms-api.md), so every earlier row is in this chunk or before.
                cursor_advance(channel=channel, flow=STOCK_FLOW, position=latest)


def _stock_chunk(chunk: Sequence[StockLevelRecord], report: RunReport, open_keys: set[str], dry_run: bool):
    report.seen += len(chunk)
    items = dict(Item.objects.filter(sku__in={r.sku for r in chunk}).values_list("sku", "id"))
    warehouses = warehouse_ids(codes={r.warehouse for r in chunk}, create=not dry_run)
    current = {
        (item, wh): (on_hand, allocated, available)
        for item, wh, on_hand, allocated, available in StockLevel.objects.filter(
            item_id__in=items.values(), warehouse_id__in=warehouses.values()
        ).values_list("item_id", "warehouse_id", "on_hand", "allocated", "available")
    }
    rows, now = {}, timezone.now()
    for record in chunk:
        key = f"{record.sku}@{record.warehouse}"
        if record.sku not in items:
            report.issue(key, UNKNOWN_ITEM, {"sku": record.sku, "warehouse": record.warehouse})
            continue
        if key in open_keys:
            report.succeeded(key)
        ids: tuple[int, Any] = (items[record.sku], warehouses.get(record.warehouse))  # no id on a dry run's new code
        figures = (record.on_hand, record.allocated, record.available)
        if current.get(ids) == figures:
            report.skipped += 1
            continue
        report.created, report.updated = report.created + (ids not in current), report.updated + (ids in current)
        rows[ids] = StockLevel(
            item_id=ids[0], warehouse_id=ids[1], on_hand=figures[0], allocated=figures[1], available=figures[2],
            updated_at=record.updated_at or now,
        )  # fmt: skip
    if rows and not dry_run:
        StockLevel.objects.bulk_create(
            list(rows.values()),
            update_conflicts=True,
            unique_fields=["item", "warehouse"],
            update_fields=["on_hand", "allocated", "available", "updated_at"],
        )
    stamps = [r.updated_at for r in chunk if r.updated_at]
    return max(stamps) if stamps else None


def supply_download(
    *, channel: Channel, connector: StockSource, report: RunReport, since: datetime | None, dry_run: bool
) -> None:
    """Open purchase-order lines: upserted, and removed when they close (quantity 0, or absent from a full read)."""
    start = read_since(channel=channel, cursor=SUPPLY_CURSOR, since=since)
    began, latest = timezone.now(), None
    for chunk in batched(connector.supply_download(since=start), CHUNK):
        with transaction.atomic():
            latest = max(filter(None, [latest, _supply_chunk(chunk, report, dry_run)]), default=None)
    if dry_run:
        return
    with transaction.atomic():
        if start is None:
            # A full read lists every open line: lines it did not touch are closed.
            IncomingSupply.objects.filter(updated_at__lt=began).delete()
        if latest:
            cursor_advance(channel=channel, flow=SUPPLY_CURSOR, position=latest)


def _supply_chunk(chunk: Sequence[Supply], report: RunReport, dry_run: bool) -> datetime | None:
    report.seen += len(chunk)
    items = dict(Item.objects.filter(sku__in={r.sku for r in chunk}).values_list("sku", "id"))
    warehouses = warehouse_ids(codes={r.warehouse for r in chunk}, create=not dry_run)
    current = {
        (wh, po, item): (quantity, expected)
        for wh, po, item, quantity, expected in IncomingSupply.objects.filter(item_id__in=items.values()).values_list(
            "warehouse_id", "purchase_order", "item_id", "quantity", "expected_date"
        )
    }
    rows, closed = {}, []
    for record in chunk:
        if record.sku not in items:
            report.issue(f"PO {record.purchase_order}: {record.sku}@{record.warehouse}", UNKNOWN_ITEM)
            continue
        key: tuple[Any, str, int] = (warehouses.get(record.warehouse), record.purchase_order, items[record.sku])
        if record.quantity <= 0:
            closed.append(key)
            report.updated += key in current
            continue
        known = current.get(key)
        report.created += known is None
        report.updated += known is not None and known != (record.quantity, record.expected_date)
        report.skipped += known == (record.quantity, record.expected_date)
        # Written even when unchanged: a full read removes the lines it did not touch (by updated_at).
        rows[key] = IncomingSupply(
            warehouse_id=key[0], purchase_order=key[1], item_id=key[2], quantity=record.quantity,
            expected_date=record.expected_date,
        )  # fmt: skip
    if not dry_run:
        IncomingSupply.objects.bulk_create(
            list(rows.values()),
            update_conflicts=True,
            unique_fields=["warehouse", "purchase_order", "item"],
            update_fields=["quantity", "expected_date", "updated_at"],
        )
        for warehouse_id, po, item_id in closed:
            IncomingSupply.objects.filter(warehouse_id=warehouse_id, purchase_order=po, item_id=item_id).delete()
    stamps = [stamp for r in chunk if (stamp := getattr(r, "updated_at", None))]
    return max(stamps) if stamps else None


def channel_warehouses_seen(*, channel_id: int, names: Iterable[str]) -> int:
    """Channel warehouses named by the channel's data (NuORDER: an order line's or a product's warehouse) that the
    hub has not met yet, created (and paired by code or name, as downloaded ones are); how many were new."""
    wanted = {name.strip()[:100] for name in names if name and name.strip()}
    if not wanted:
        return 0
    known = set(
        ChannelWarehouse.objects.filter(channel_id=channel_id, external_id__in=wanted).values_list(
            "external_id", flat=True
        )
    )
    new = [WarehouseRecord(external_id=name, name=name, code=name) for name in sorted(wanted - known)]
    if not new:
        return 0
    rows = [ChannelWarehouse(channel_id=channel_id, external_id=r.external_id, name=r.name, code=r.code) for r in new]
    ChannelWarehouse.objects.bulk_create(rows, ignore_conflicts=True)
    _pair_new_by_code_or_name(Channel(pk=channel_id), new)
    return len(new)


def channel_warehouses_upsert(
    *, channel: Channel, records: Iterable[WarehouseRecord], report: RunReport, dry_run: bool, complete: bool = True
) -> None:
    """A sales channel's warehouses, upserted by external id; ones it no longer lists become inactive, unless the
    list is not `complete` (NuORDER's comes from its settings: warehouses met in orders and stock stay).

    A new channel warehouse is paired with the internal warehouse of the same code or name, as a starting point.
    """
    records = list(records)
    report.seen += len(records)
    known = dict(ChannelWarehouse.objects.filter(channel=channel).values_list("external_id", "id"))
    report.created += sum(1 for r in records if r.external_id not in known)
    report.updated += sum(1 for r in records if r.external_id in known)
    if dry_run:
        for record in records:
            report.say(f"{'update' if record.external_id in known else 'create'} {record.external_id} {record.name}")
        return
    rows = [
        ChannelWarehouse(channel=channel, external_id=r.external_id, name=r.name, code=r.code, active=r.active)
        for r in records
    ]
    with transaction.atomic():
        ChannelWarehouse.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["channel", "external_id"],
            update_fields=["name", "code", "active", "updated_at"],
        )
        if complete:
            gone = ChannelWarehouse.objects.filter(channel=channel).exclude(
                external_id__in=[r.external_id for r in records]
            )
            gone.update(active=False)
        _pair_new_by_code_or_name(channel, [r for r in records if r.external_id not in known])


def _pair_new_by_code_or_name(channel: Channel, records: list[WarehouseRecord]) -> None:
    """Pair each new channel warehouse with the internal warehouse of the same code (else the one same name)."""
    internal = list(Warehouse.objects.values_list("id", "code", "name"))
    by_code = {code.upper(): pk for pk, code, _ in internal}
    names = [name.strip().upper() for _, _, name in internal]
    by_name = {name.strip().upper(): pk for pk, _, name in internal if names.count(name.strip().upper()) == 1}
    new = ChannelWarehouse.objects.filter(channel=channel, external_id__in=[r.external_id for r in records])
    pairs = []
    for pk, code, name in new.values_list("id", "code", "name"):
        match = by_code.get(code.upper()) if code else None
        match = match or by_name.get(name.strip().upper())
        if match:
            pairs.append(WarehousePairing(channel_warehouse_id=pk, warehouse_id=match))
    WarehousePairing.objects.bulk_create(pairs, ignore_conflicts=True)
