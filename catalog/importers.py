"""Spreadsheet import of listing → item mappings; the admin's import and `import_mappings` both call
`mapping_import`, so they accept and refuse exactly the same files.

Every row is checked first, chunk by chunk, with one query per chunk for each lookup (channels, items by
SKU, items by UPC, existing listings). Only when no row is bad are the changes upserted on
(channel, channel_sku), in chunks, in one transaction: a file with any bad row writes nothing.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import transaction
from django.db.models import QuerySet

from catalog.import_preview import RowChange, row_change, stops
from catalog.keys import upc_key, upc_variants
from catalog.models import Item, ItemMapping, MappingMethod, MappingStatus
from catalog.spreadsheets import COLUMNS, cell_restore, cell_text
from integrations.bulk import upsert
from integrations.chunks import batched
from integrations.models import Channel

IMPORT_CHUNK = 5000
PREVIEW_ROWS = 100
_MAX_LENGTH = {
    name: ItemMapping._meta.get_field(name).max_length for name in ("channel_sku", "channel_product_id", "channel_upc")
}
# What an imported row writes; a listing that exists is updated in every column after the key.
_COLUMNS = (
    "channel_id",
    "channel_sku",
    "item_id",
    "status",
    "method",
    "channel_product_id",
    "channel_upc",
    "suggested_item_id",
    "note",
)
_OPEN_STATUSES = (MappingStatus.UNMAPPED, MappingStatus.CONFLICT)
# NUL and the other C0 control characters, and DEL: never part of a SKU, UPC or id (PostgreSQL refuses NUL in text).
CONTROL = re.compile("[\x00-\x1f\x7f]")

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet numbers it: the header is row 1
    message: str
    values: tuple[str, ...] = ()


@dataclass
class MappingImportResult:
    header: tuple[str, ...] = ()
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    stopping: int = 0  # changes that stop a mapped listing's stock and orders (see catalog/import_preview.py)
    errors: list[RowError] = field(default_factory=list)
    preview: list[RowChange] = field(default_factory=list)  # the first PREVIEW_ROWS changes
    dry_run: bool = False

    @property
    def written(self) -> bool:
        return not self.errors and not self.dry_run

    def summary(self) -> str:
        return f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, {len(self.errors)} errors"


class _Row(NamedTuple):
    number: int
    values: tuple[str, ...]
    channel: str
    channel_sku: str
    item_sku: str
    item_upc: str
    product_id: str
    channel_upc: str
    ignore: bool


class _Current(NamedTuple):
    item_id: int | None
    status: str
    product_id: str
    channel_upc: str


def mapping_import(
    *,
    header: Sequence[object],
    rows: Iterable[Sequence[object]],
    channel: Channel | None = None,
    dry_run: bool = False,
    source: str = "",
    chunk_size: int = IMPORT_CHUNK,
    on_progress: Progress | None = None,
) -> MappingImportResult:
    """Check every row of a mapping spreadsheet, then (unless dry_run or any row is bad) upsert them all.
    `channel` fills rows with a blank channel; rows naming another channel are refused."""
    run = _Import(channel=channel, chunk_size=chunk_size, on_progress=on_progress or (lambda stage, n: None))
    run.result.dry_run = dry_run
    if run.read_header(header):
        run.check(rows)
    if run.result.written:
        run.write(source)
    return run.result


class _Import:
    def __init__(self, *, channel: Channel | None, chunk_size: int, on_progress: Progress) -> None:
        self.result = MappingImportResult()
        self.fixed_channel = channel
        self.chunk_size = chunk_size
        self.on_progress = on_progress
        self.columns: dict[str, int] = {}
        self.channels: dict[str, int | None] = {channel.slug: channel.pk} if channel else {}
        self.seen: dict[tuple[str, str], int] = {}
        self.writes: list[tuple] = []

    def read_header(self, header: Sequence[object]) -> bool:
        names = [visible(cell_restore(cell_text(cell).strip()).lower()) for cell in header]
        self.result.header = tuple(names)
        problems = [f"unknown column {name!r}" for name in names if name and name not in COLUMNS]
        problems += [f"column {name!r} appears twice" for name in set(names) if name and names.count(name) > 1]
        required = ("channel_sku",) if self.fixed_channel else ("channel", "channel_sku")
        problems += [f"column {name!r} is missing" for name in required if name not in names]
        if problems:
            expected = ", ".join(COLUMNS)
            self.result.errors.append(RowError(1, f"{'; '.join(problems)} (columns: {expected})", tuple(names)))
            return False
        self.columns = {name: position for position, name in enumerate(names) if name}
        return True

    def check(self, rows: Iterable[Sequence[object]]) -> None:
        for chunk in batched(self.parsed(rows), self.chunk_size):
            lookups = _Lookups.load(chunk, self.channels)
            for row in chunk:
                self.resolve(row, lookups)
            self.on_progress("check", len(chunk))
        self.result.errors.sort(key=lambda error: error.row)  # parse and lookup errors, in file order

    def parsed(self, rows: Iterable[Sequence[object]]) -> Iterator[_Row]:
        for number, raw in enumerate(rows, start=2):
            cells = tuple(cell_restore(cell_text(cell).strip()) for cell in raw)
            if any(cells):
                row = self.parse(number, cells)
                if row is not None:
                    yield row

    def cell(self, cells: tuple[str, ...], name: str) -> str:
        position = self.columns.get(name)
        return cells[position] if position is not None and position < len(cells) else ""

    def parse(self, number: int, cells: tuple[str, ...]) -> _Row | None:
        if CONTROL.search("".join(cells)):
            self.result.errors.append(self.control_error(number, cells))
            return None
        values = {name: self.cell(cells, name) for name in COLUMNS}
        problems = []
        channel = values["channel"]
        if self.fixed_channel and channel and channel != self.fixed_channel.slug:
            problems.append(f"channel {channel} is not {self.fixed_channel.slug}, the channel being imported")
        channel = channel or (self.fixed_channel.slug if self.fixed_channel else "")
        if not channel:
            problems.append("channel is blank")
        if not values["channel_sku"]:
            problems.append("channel_sku is blank")
        problems += [
            f"{name} is longer than {limit} characters"
            for name, limit in _MAX_LENGTH.items()
            if len(values[name]) > limit
        ]
        ignore = values["ignore"].lower()
        if ignore not in ("", "yes", "no"):
            problems.append(f"ignore must be yes or no, not {values['ignore']!r}")
        key = (channel, values["channel_sku"])
        if all(key) and self.seen.setdefault(key, number) != number:
            problems.append(f"channel_sku {key[1]} for {channel} already appears on row {self.seen[key]}")
        if problems:
            self.result.errors.append(RowError(number, "; ".join(problems), cells))
            return None
        fields = (
            values["channel_sku"],
            values["item_sku"],
            values["item_upc"],
            values["channel_product_id"],
            values["channel_upc"],
        )
        return _Row(number, cells, channel, *fields, ignore == "yes")

    def control_error(self, number: int, cells: tuple[str, ...]) -> RowError:
        """Which cells of the row hold control characters, and which characters (the row is refused)."""
        header = self.result.header
        problems = []
        for position, cell in enumerate(cells):
            found = sorted(set(CONTROL.findall(cell)))
            if found:
                column = header[position] if position < len(header) and header[position] else f"column {position + 1}"
                codes = ", ".join(f"U+{ord(char):04X}" for char in found)
                problems.append(f"{column} contains a control character ({codes})")
        return RowError(number, "; ".join(problems), tuple(visible(cell) for cell in cells))

    def resolve(self, row: _Row, lookups: "_Lookups") -> None:
        channel_id = self.channels.get(row.channel)
        item_id, problem = lookups.item_for(row) if channel_id else (None, f"unknown channel {row.channel}")
        current = lookups.existing.get((channel_id, row.channel_sku))
        if problem is None:
            if item_id is None and current is not None:
                item_id = current.item_id  # a blank item keeps the listing's current item
            if row.ignore:
                status = MappingStatus.IGNORED
            elif item_id is not None:
                status = MappingStatus.MAPPED
            elif current is not None and current.status in _OPEN_STATUSES:
                self.result.unchanged += 1  # still waiting for an item: nothing to import for it
                return
            else:
                problem = "item_sku or item_upc is required (or ignore = yes)"
        if problem is not None:
            self.result.errors.append(RowError(row.number, problem, row.values))
            return
        self.plan(row, channel_id, item_id, status, current, lookups.item_skus)

    def plan(
        self,
        row: _Row,
        channel_id: int,
        item_id: int | None,
        status: str,
        current: _Current | None,
        item_skus: dict[int, str],
    ) -> None:
        # Blank optional cells keep the listing's current value: an import never clears them.
        product_id = row.product_id or (current.product_id if current else "")
        upc = row.channel_upc or (current.channel_upc if current else "")
        new = (item_id, status, product_id, upc)
        if current == new:
            self.result.unchanged += 1
            return
        if current:
            self.result.updated += 1
        else:
            self.result.new += 1
        self.result.stopping += stops(current, new)
        if len(self.result.preview) < PREVIEW_ROWS:
            self.result.preview.append(
                row_change(row.number, row.values, f"{row.channel_sku} on {row.channel}", current, new, item_skus)
            )
        self.writes.append((channel_id, row.channel_sku, item_id, status, product_id, upc, row.number))

    def write(self, source: str) -> None:
        origin = f"Imported from {source}" if source else "Imported"
        with transaction.atomic():
            for batch in batched(self.writes, self.chunk_size):
                rows = [
                    (
                        channel_id,
                        sku,
                        item_id,
                        status,
                        MappingMethod.IMPORT,
                        product_id,
                        upc,
                        None,
                        f"{origin}, row {n}",
                    )
                    for channel_id, sku, item_id, status, product_id, upc, n in batch
                ]
                upsert(ItemMapping, columns=_COLUMNS, rows=rows, unique=_COLUMNS[:2], update=_COLUMNS[2:])
                self.on_progress("write", len(batch))


class _Lookups:
    """What one chunk of rows refers to, fetched with one query per kind."""

    def __init__(self) -> None:
        self.items_by_sku: dict[str, tuple[int, bool]] = {}
        self.items_by_upc: dict[str, list[tuple[int, bool, str]]] = defaultdict(list)
        self.existing: dict[tuple[int | None, str], _Current] = {}
        self.item_skus: dict[int, str] = {}  # item id -> SKU, for the preview's before and after

    @classmethod
    def load(cls, chunk: list[_Row], channels: dict[str, int | None]) -> "_Lookups":
        lookups = cls()
        unseen = {row.channel for row in chunk} - channels.keys()
        if unseen:
            found = dict(Channel.objects.filter(slug__in=unseen).values_list("slug", "pk"))
            channels.update({slug: found.get(slug) for slug in unseen})
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

    def item_for(self, row: _Row) -> tuple[int | None, str | None]:
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


def visible(text: str) -> str:
    """Text with its control characters written out (NUL as \\x00), safe to show and to store."""
    return CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


def _existing(
    chunk: list[_Row], channels: dict[str, int | None]
) -> tuple[dict[tuple[int | None, str], _Current], dict[int, str]]:
    """The listings the chunk names as they are, and the SKUs of their items (one query, the item joined)."""
    channel_ids = {channels[row.channel] for row in chunk} - {None}
    if not channel_ids:
        return {}, {}
    found: QuerySet = ItemMapping.objects.filter(
        channel_id__in=channel_ids, channel_sku__in={row.channel_sku for row in chunk}
    ).values_list("channel_id", "channel_sku", "item_id", "status", "channel_product_id", "channel_upc", "item__sku")
    existing, skus = {}, {}
    for channel_id, sku, item_id, status, product_id, upc, item_sku in found:
        existing[(channel_id, sku)] = _Current(item_id, status, product_id, upc)
        if item_id is not None:
            skus[item_id] = item_sku
    return existing, skus
