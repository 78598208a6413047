"""Mapping spreadsheets as tables of text: the columns, streaming CSV/XLSX readers, and the export rows,
with cells neutralised against formula injection on the way out and restored on the way in."""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO

from django.db.models import QuerySet

from catalog.models import ItemMapping, MappingStatus
from catalog.xlsx_stream import xlsx_declared_rows, xlsx_values

COLUMNS = ("channel", "channel_sku", "item_sku", "item_upc", "channel_product_id", "channel_upc", "ignore")
FORMATS = ("csv", "xlsx")

# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NEUTRALISER = "'"


def cell_neutralise(value: str) -> str:
    """Prefix a cell that a spreadsheet would run as a formula, so it is shown as text."""
    return NEUTRALISER + value if value.startswith(FORMULA_TRIGGERS) else value


def cell_restore(value: str) -> str:
    """Undo `cell_neutralise`: an exported value reads back exactly as it was."""
    if value.startswith(NEUTRALISER) and value[1:2] and value[1] in FORMULA_TRIGGERS:
        return value[1:]
    return value


def cell_text(value: object) -> str:
    """A cell as text: XLSX numbers that are whole come back without '.0', empty cells as ''."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def file_format(path: str | Path) -> str:
    """'csv' or 'xlsx', from the file's extension."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(f"{path}: expected a .csv or .xlsx file")
    return suffix


def csv_rows(stream: IO[str]) -> Iterator[list[str]]:
    """Every record of a CSV, blank ones included, so row numbers are the spreadsheet's."""
    for record in csv.reader(stream):
        yield [cell_text(cell) for cell in record]


def xlsx_rows(source: str | Path | IO[bytes]) -> Iterator[list[str]]:
    """The first sheet's rows, streamed from its XML (catalog/xlsx_stream.py): memory stays flat however long the
    file, and no object is kept per cell. Every row the sheet holds is read, whatever dimensions it records."""
    for row in xlsx_values(source):
        yield [cell if type(cell) is str else cell_text(cell) for cell in row]


def table_read(path: str | Path) -> Iterator[list[str]]:
    """A CSV or XLSX file's rows as text, header first."""
    if file_format(path) == "xlsx":
        yield from xlsx_rows(path)
        return
    with open(path, encoding="utf-8-sig", newline="") as stream:
        yield from csv_rows(stream)


def table_from_bytes(data: bytes | str, fmt: str) -> Iterator[list[str]]:
    """Rows of an uploaded file held in memory (the admin's import)."""
    if fmt == "xlsx":
        return xlsx_rows(io.BytesIO(data if isinstance(data, bytes) else data.encode()))
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.removeprefix("\ufeff")
    return csv_rows(io.StringIO(text, newline=""))


def row_count_estimate(path: str | Path) -> int:
    """Data rows in a file, cheaply (for a progress bar): lines of a CSV, recorded dimensions of an XLSX."""
    if file_format(path) == "xlsx":
        return max((xlsx_declared_rows(path) or 1) - 1, 0)
    with open(path, "rb") as stream:
        return max(sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b"")) - 1, 0)


def mapping_export_rows(*, mappings: QuerySet[ItemMapping]) -> Iterable[tuple[str, ...]]:
    """The listings as spreadsheet rows (COLUMNS order), one joined query streamed in chunks. The item is
    named by item_sku; item_upc is left for files built from UPCs, so an edited export re-imports cleanly."""
    rows = (
        mappings.select_related(None)
        .order_by("channel__slug", "channel_sku")
        .values_list("channel__slug", "channel_sku", "item__sku", "channel_product_id", "channel_upc", "status")
    )
    for slug, sku, item_sku, product_id, upc, status in rows.iterator(chunk_size=5000):
        ignore = "yes" if status == MappingStatus.IGNORED else "no"
        cells = (slug, sku, item_sku or "", "", product_id, upc, ignore)
        yield tuple(cell_neutralise(cell) for cell in cells)
