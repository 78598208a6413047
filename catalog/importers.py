"""Spreadsheet import of listing → item mappings; the admin's import and `import_mappings` both call
`mapping_import`, so they accept and refuse exactly the same files.

Every row is checked first, chunk by chunk, with one query per chunk for each lookup (channels, items by
SKU, items by UPC, existing listings). Only when no row is bad are the changes upserted on
(channel, channel_sku), in chunks, in one transaction: a file with any bad row writes nothing.
"""

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from django.db import transaction

from catalog.import_lookups import Current, Lookups, Row
from catalog.import_preview import RowChange, row_change, stops
from catalog.import_scratch import Scratch, Write
from catalog.models import ItemMapping, MappingMethod, MappingStatus
from catalog.spreadsheets import COLUMNS, cell_restore, cell_text
from integrations.bulk import upsert
from integrations.chunks import batched
from integrations.models import Channel

IMPORT_CHUNK = 5000
PREVIEW_ROWS = 100
ERRORS_KEPT = 1000  # the first bad rows are kept to show; the rest are counted (memory stays flat in bad rows)
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
    errors: list[RowError] = field(default_factory=list)  # the first ERRORS_KEPT bad rows, in file order
    error_count: int = 0  # every bad row
    preview: list[RowChange] = field(default_factory=list)  # the first PREVIEW_ROWS changes
    dry_run: bool = False
    _full: bool = field(default=False, repr=False)

    @property
    def written(self) -> bool:
        return not self.error_count and not self.dry_run

    def summary(self) -> str:
        return f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, {self.error_count} errors"

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if self._full:
            return
        self.errors.append(error)
        if len(self.errors) > 2 * ERRORS_KEPT:  # a long run of bad rows inside one chunk
            self._keep_first()

    def settle_errors(self) -> None:
        """At the end of each chunk every bad row up to it is in, and later chunks' rows come after: once the
        first ERRORS_KEPT are known, the rest are only counted."""
        self._keep_first()
        self._full = len(self.errors) >= ERRORS_KEPT

    def _keep_first(self) -> None:
        self.errors.sort(key=lambda error: error.row)
        del self.errors[ERRORS_KEPT:]


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
    try:
        if run.read_header(header):
            run.check(rows)
        if run.result.written:
            run.write(source)
    finally:
        run.scratch.close()
    return run.result


class _Import:
    def __init__(self, *, channel: Channel | None, chunk_size: int, on_progress: Progress) -> None:
        self.result = MappingImportResult()
        self.fixed_channel = channel
        self.chunk_size = chunk_size
        self.on_progress = on_progress
        self.columns: dict[str, int] = {}
        self.channels: dict[str, int | None] = {channel.slug: channel.pk} if channel else {}
        self.scratch = Scratch()  # the keys read so far and the planned writes, on disk
        self.planned: list[Write] = []  # the chunk's writes, on their way to the scratch database

    def read_header(self, header: Sequence[object]) -> bool:
        names = [visible(cell_restore(cell_text(cell).strip()).lower()) for cell in header]
        self.result.header = tuple(names)
        problems = [f"unknown column {name!r}" for name in names if name and name not in COLUMNS]
        problems += [f"column {name!r} appears twice" for name in set(names) if name and names.count(name) > 1]
        required = ("channel_sku",) if self.fixed_channel else ("channel", "channel_sku")
        problems += [f"column {name!r} is missing" for name in required if name not in names]
        if problems:
            expected = ", ".join(COLUMNS)
            self.result.add_error(RowError(1, f"{'; '.join(problems)} (columns: {expected})", tuple(names)))
            return False
        self.columns = {name: position for position, name in enumerate(names) if name}
        return True

    def check(self, rows: Iterable[Sequence[object]]) -> None:
        for chunk in batched(self.parsed(rows), self.chunk_size):
            unique = self.first_of_each(chunk)
            lookups = Lookups.load(unique, self.channels)
            for row in unique:
                self.resolve(row, lookups)
            if not self.result.dry_run and not self.result.error_count:
                self.scratch.add_writes(self.planned)
            self.planned = []
            self.result.settle_errors()  # parse and lookup errors, in file order
            self.on_progress("check", len(chunk))
        self.result.settle_errors()  # the bad rows after the last good one

    def first_of_each(self, chunk: list[Row]) -> list[Row]:
        """The chunk without the rows whose listing an earlier row of the file names (each one a bad row)."""
        keys = [(f"{row.channel}\x1f{row.channel_sku}", row.number) for row in chunk]  # no cell holds \x1f
        first = self.scratch.first_rows(keys)
        unique = []
        for row, (key, number) in zip(chunk, keys, strict=True):
            if first[key] == number:
                unique.append(row)
            else:
                message = f"channel_sku {row.channel_sku} for {row.channel} already appears on row {first[key]}"
                self.result.add_error(RowError(number, message, row.values))
        return unique

    def parsed(self, rows: Iterable[Sequence[object]]) -> Iterator[Row]:
        for number, raw in enumerate(rows, start=2):
            cells = tuple(cell_restore(cell_text(cell).strip()) for cell in raw)
            if any(cells):
                row = self.parse(number, cells)
                if row is not None:
                    yield row

    def cell(self, cells: tuple[str, ...], name: str) -> str:
        position = self.columns.get(name)
        return cells[position] if position is not None and position < len(cells) else ""

    def parse(self, number: int, cells: tuple[str, ...]) -> Row | None:
        if CONTROL.search("".join(cells)):
            self.result.add_error(self.control_error(number, cells))
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
        if problems:
            self.result.add_error(RowError(number, "; ".join(problems), cells))
            return None
        fields = (
            values["channel_sku"],
            values["item_sku"],
            values["item_upc"],
            values["channel_product_id"],
            values["channel_upc"],
        )
        return Row(number, cells, channel, *fields, ignore == "yes")

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

    def resolve(self, row: Row, lookups: "Lookups") -> None:
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
            self.result.add_error(RowError(row.number, problem, row.values))
            return
        self.plan(row, channel_id, item_id, status, current, lookups.item_skus)

    def plan(
        self,
        row: Row,
        channel_id: int,
        item_id: int | None,
        status: str,
        current: Current | None,
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
        self.planned.append((channel_id, row.channel_sku, item_id, status, product_id, upc, row.number))

    def write(self, source: str) -> None:
        origin = f"Imported from {source}" if source else "Imported"
        with transaction.atomic():
            for batch in self.scratch.writes(self.chunk_size):
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


def visible(text: str) -> str:
    """Text with its control characters written out (NUL as \\x00), safe to show and to store."""
    return CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", text)
