"""catalog.download from the fulfillment system: items and bundle components changed since the cursor, upserted
set-based in chunks on their SKU, the cursor moved inside each chunk's transaction.

An item the fulfillment system stops selling arrives with active=False and stays, marked inactive: listings and
orders keep pointing at it. An unchanged item is not written (counted as skipped). A bundle's components are
replaced by the ones downloaded; a component the hub does not know yet (it may come in a later chunk) is
resolved at the end of the run, and the cursor stays at that bundle until then, so a crash re-reads it.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction

from catalog.automap import mapping_automap
from catalog.models import BundleComponent, Item, ItemMapping, MappingStatus
from catalog.sync_common import FLOW, say
from integrations.bulk import upsert
from integrations.chunks import batched
from integrations.connectors.records import BadRecord, CatalogItem
from integrations.cursors import cursor_advance
from integrations.flows import RunReport
from integrations.models import Channel

CHUNK = 2000
FIELDS = (
    "item_number",
    "color_code",
    "prepack_run",
    "size",
    "upc",
    "description",
    "wholesale_price",
    "retail_price",
    "active",
)
MATCHING = {"item_number", "color_code", "prepack_run", "size", "upc", "active"}  # what auto-mapping reads
CENT = Decimal("0.01")
_LIMITS = {
    name: Item._meta.get_field(name).max_length
    for name in ("sku", "item_number", "color_code", "prepack_run", "size", "upc")
}
_DESCRIPTION = Item._meta.get_field("description").max_length


@dataclass
class ItemsRun:
    """What a download carries from chunk to chunk."""

    channel: Channel
    report: RunReport
    dry_run: bool
    open_keys: set[str]
    latest: datetime | None = None
    matching_changed: bool = False
    pending: dict[str, CatalogItem] = field(default_factory=dict)  # bundles waiting for a component
    bundle_counts: dict[str, str] = field(default_factory=dict)  # bundle SKU -> the count it went to, if any


def items_download(
    *,
    channel: Channel,
    records: Iterable[CatalogItem | BadRecord],
    report: RunReport,
    dry_run: bool,
    open_keys: Iterable[str] = (),
    chunk_size: int = CHUNK,
) -> None:
    """Upsert items from the fulfillment system in chunks, then finish bundles and auto-map waiting listings."""
    run = ItemsRun(channel=channel, report=report, dry_run=dry_run, open_keys=set(open_keys))
    for chunk in batched(records, chunk_size):
        with transaction.atomic():
            _chunk(run, chunk)
            stamps = [run.latest, *(r.updated_at for r in run.pending.values())]
            position = min((s for s in stamps if s), default=None)
            if position and not dry_run:
                cursor_advance(channel=channel, flow=FLOW, position=position)
    if dry_run:
        return
    with transaction.atomic():
        _finish_bundles(run)
        if run.latest:
            cursor_advance(channel=channel, flow=FLOW, position=run.latest)
    waiting = ItemMapping.objects.filter(status=MappingStatus.UNMAPPED)
    if run.matching_changed and waiting.exists():
        # New or changed items can make listings that matched nothing mappable (never a person's choice).
        mapping_automap(mappings=waiting)


def _chunk(run: ItemsRun, chunk: tuple[CatalogItem | BadRecord, ...]) -> None:
    run.report.seen += len(chunk)
    records = _usable(run, chunk)
    existing = {
        row[1]: row
        for row in Item.objects.filter(sku__among=list(records))
        .order_by()
        .values_list("id", "sku", *FIELDS)
        .iterator(CHUNK)
    }
    components = _current_components([row[0] for row in existing.values()])
    writes, bundles = [], []
    for sku, (record, wanted) in records.items():
        row = existing.get(sku)
        fields_changed = row is None or tuple(row[2:]) != wanted
        parts_changed = (components.get(row[0], {}) if row else {}) != _parts(record)
        if fields_changed:
            writes.append((record, wanted))
            run.matching_changed |= row is None or any(
                old != new for name, old, new in zip(FIELDS, row[2:], wanted, strict=True) if name in MATCHING
            )
        if parts_changed:
            bundles.append(record)
            run.bundle_counts[sku] = "created" if row is None else "updated"
        _count(run, record, row is None, fields_changed or parts_changed)
    if run.dry_run:
        _upcs_checked(run, writes, existing)
        return
    try:
        with transaction.atomic():  # the UPC constraint is the check; clashes are rare, a look-up per chunk is not
            _write(writes, existing)
    except IntegrityError:
        _upcs_checked(run, writes, existing)
        _write(writes, existing)
    _replace_components(run, bundles)


def _usable(run: ItemsRun, chunk: tuple[CatalogItem | BadRecord, ...]) -> dict[str, tuple[CatalogItem, tuple]]:
    """The chunk's records by SKU with the values to store (the last of a repeated SKU wins); unreadable ones
    go to the issue queue."""
    records: dict[str, tuple[CatalogItem, tuple]] = {}
    for record in chunk:
        if isinstance(record, BadRecord):
            run.report.issue(record.external_id or "item", record.reason, record.raw)
            continue
        if record.updated_at and (run.latest is None or record.updated_at > run.latest):
            run.latest = record.updated_at
        values = _values(record)
        problem = _problem(record, values)
        if problem:
            run.report.issue(record.sku or "item", problem, _payload(record))
            continue
        if record.sku in records:
            run.report.skipped += 1  # the earlier copy of a repeated SKU: the last one is the one counted
        records[record.sku] = (record, values)
    return records


def _problem(record: CatalogItem, values: tuple) -> str:
    if not record.sku.strip() or not record.item_number.strip():
        return "the item has no sku" if not record.sku.strip() else "the item has no item_number"
    for name, value in (("sku", record.sku), *zip(FIELDS[:5], values[:5], strict=True)):
        if len(value) > _LIMITS[name]:
            return f"{name} is longer than {_LIMITS[name]} characters: {value[:40]}…"
    for name, price, given in zip(FIELDS[6:8], values[6:8], (record.wholesale_price, record.retail_price), strict=True):
        if price is False:
            return f"{name} is not a price the hub can store: {given}"
    if any(quantity <= 0 for _, quantity in record.components):
        return "a bundle component has a quantity below 1"
    if any(sku == record.sku for sku, _ in record.components):
        return "the bundle lists itself as a component"
    return ""


def _price(value: Decimal | None) -> Decimal | bool | None:
    """The price rounded to cents, None when absent, False when it does not fit the column."""
    if value is None:
        return None
    try:
        rounded = value.quantize(CENT)
    except InvalidOperation:
        return False
    return rounded if abs(rounded) < Decimal(10**10) else False


def _values(record: CatalogItem) -> tuple:
    description = record.description[:_DESCRIPTION]
    return (
        record.item_number,
        record.color_code,
        record.prepack_run,
        record.size,
        record.upc,
        description,
        _price(record.wholesale_price),
        _price(record.retail_price),
        record.active,
    )


def _parts(record: CatalogItem) -> dict[str, int]:
    parts: dict[str, int] = {}
    for sku, quantity in record.components:
        parts[sku] = parts.get(sku, 0) + quantity  # the same component twice is one row with both quantities
    return parts


def _current_components(bundle_ids: list[int]) -> dict[int, dict[str, int]]:
    found: dict[int, dict[str, int]] = {}
    rows = BundleComponent.objects.filter(bundle_id__among=bundle_ids).values_list(
        "bundle_id", "component__sku", "quantity"
    )
    for bundle_id, sku, quantity in rows:
        found.setdefault(bundle_id, {})[sku] = quantity
    return found


def _count(run: ItemsRun, record: CatalogItem, new: bool, changed: bool) -> None:
    report = run.report
    if new:
        report.created += 1
        say(report, f"create item {record.sku}")
    elif changed:
        report.updated += 1
        say(report, f"update item {record.sku}")
    else:
        report.skipped += 1
    if record.sku in run.open_keys:
        report.succeeded(record.sku)


def _upcs_checked(run: ItemsRun, writes: list[tuple[CatalogItem, tuple]], existing: dict[str, tuple]) -> None:
    """A UPC belongs to one item (a database constraint): a record whose UPC another item holds is stored
    without it, and the clash goes to the issue queue for a person to fix in the fulfillment system."""
    upc_at = FIELDS.index("upc")
    written = {r.sku for r, _ in writes}
    # exclude(upc="") lets the planner use the partial unique index on UPC.
    found = Item.objects.filter(upc__in={r.upc for r, _ in writes if r.upc}).exclude(upc="").order_by()
    holders = {upc: sku for upc, sku in found.values_list("upc", "sku") if sku not in written}
    # Items that already hold their UPC keep it against newcomers of the same chunk.
    keeping = {n for n, (r, _) in enumerate(writes) if r.sku in existing and existing[r.sku][2 + upc_at] == r.upc}
    for n in sorted(range(len(writes)), key=lambda n: n not in keeping):
        record, values = writes[n]
        if not record.upc:
            continue
        holder = holders.setdefault(record.upc, record.sku)
        if holder != record.sku:
            message = f"UPC {record.upc} already belongs to item {holder}; stored without a UPC until one of them gets another UPC in the fulfillment system"
            # Stored without its UPC: it was counted created or updated, and now counts as failed instead.
            counted = "updated" if record.sku in existing else "created"
            run.report.issue(record.sku, message, _payload(record), counted_as=counted)
            writes[n] = (replace(record, upc=""), (*values[:upc_at], "", *values[upc_at + 1 :]))


def _write(writes: list[tuple[CatalogItem, tuple]], existing: dict[str, tuple]) -> None:
    upc_at = FIELDS.index("upc")
    moving = [r.sku for r, v in writes if r.sku in existing and existing[r.sku][2 + upc_at] not in ("", v[upc_at])]
    if moving:
        # Items trading UPCs within one chunk: clear the old ones first, or the upsert trips the constraint.
        Item.objects.filter(sku__in=moving).update(upc="")
    rows = [(record.sku, *values) for record, values in writes]
    upsert(Item, columns=("sku", *FIELDS), rows=rows, unique=["sku"], update=FIELDS)


def _replace_components(run: ItemsRun, bundles: list[CatalogItem]) -> None:
    """Replace the components of bundles whose list changed: one delete, one insert."""
    if not bundles:
        return
    wanted = {sku for record in bundles for sku in (record.sku, *_parts(record))}
    ids = dict(Item.objects.filter(sku__in=wanted).order_by().values_list("sku", "id"))
    ready = []
    for record in bundles:
        missing = [sku for sku in _parts(record) if sku not in ids]
        if missing:
            run.pending[record.sku] = record
        else:
            run.pending.pop(record.sku, None)
            ready.append(record)
    BundleComponent.objects.filter(bundle_id__in=[ids[r.sku] for r in ready]).delete()
    BundleComponent.objects.bulk_create(
        BundleComponent(bundle_id=ids[r.sku], component_id=ids[sku], quantity=quantity)
        for r in ready
        for sku, quantity in _parts(r).items()
    )


def _finish_bundles(run: ItemsRun) -> None:
    """Bundles whose components arrived later in the run get them now; the rest go to the issue queue."""
    _replace_components(run, list(run.pending.values()))
    parts = {sku for record in run.pending.values() for sku in _parts(record)}
    known = set(Item.objects.filter(sku__in=parts).order_by().values_list("sku", flat=True))
    for record in run.pending.values():
        missing = ", ".join(sorted(set(_parts(record)) - known))
        counted = run.bundle_counts.get(record.sku, "")
        run.report.issue(
            record.sku, f"bundle components not in the catalog: {missing}", _payload(record), counted_as=counted
        )


def _payload(record: CatalogItem) -> dict:
    return {"sku": record.sku, "item_number": record.item_number, "upc": record.upc, "components": record.components}
