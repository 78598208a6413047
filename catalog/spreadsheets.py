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
from integrations.file_limits import (
    FileRefused,
    csv_rows_check,
    exception_text,
    file_size_check,
    rows_check,
    rows_limited,
    xlsx_archive_check,
)

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
    try:
        for record in csv.reader(stream):
            yield [cell_text(cell) for cell in record]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise FileRefused(
            f"expected a CSV file in UTF-8, but cannot read it ({exception_text(exc)}); save it as CSV UTF-8"
        ) from exc


def xlsx_rows(source: str | Path | IO[bytes]) -> Iterator[list[str]]:
    """The first sheet's rows, streamed from its XML (catalog/xlsx_stream.py): memory stays flat however long the
    file, and no object is kept per cell. The archive is checked against the file limits first, then the rows
    the sheet declares; every row it holds is read, whatever dimensions it records (and counted by the caller's
    rows_limited). A DTD or entity in the workbook's XML is refused by the reader (no XXE, no expansion)."""
    xlsx_archive_check(source)
    try:
        declared = xlsx_declared_rows(source)
        if hasattr(source, "seek"):
            source.seek(0)
        if declared:  # the dimension the writer recorded: refuse before reading a row
            rows_check(declared - 1, declared=True)
        for row in xlsx_values(source):
            yield [cell if type(cell) is str else cell_text(cell) for cell in row]
    except FileRefused:
        raise
    except Exception as exc:  # whatever the workbook trips on (zip, XML, missing parts) is a file it cannot read
        raise FileRefused(_unreadable_xlsx(exc)) from exc


def table_read(path: str | Path) -> Iterator[list[str]]:
    """A CSV or XLSX file's rows as text, header first; refused (FileRefused) past the file limits."""
    fmt = file_format(path)
    file_size_check(Path(path).stat().st_size)
    if fmt == "xlsx":
        yield from rows_limited(xlsx_rows(path))
        return
    csv_rows_check(path)
    with open(path, encoding="utf-8-sig", newline="") as stream:
        yield from rows_limited(csv_rows(stream))


def table_from_bytes(data: bytes | str, fmt: str) -> Iterator[list[str]]:
    """Rows of an uploaded file held in memory (the admin's import); refused past the file limits."""
    raw = data if isinstance(data, bytes) else data.encode()
    file_size_check(len(raw))
    if fmt == "xlsx":
        return rows_limited(xlsx_rows(io.BytesIO(raw)))
    rows_check(max(raw.count(b"\n") - 1, 0))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(
            f"expected a CSV file in UTF-8, but cannot read it ({exception_text(exc)}); save it as CSV UTF-8"
        ) from exc
    return rows_limited(csv_rows(io.StringIO(text, newline="")))


def _unreadable_xlsx(exc: BaseException) -> str:
    return f"expected an XLSX workbook, but cannot read it ({exception_text(exc)}); save it again as XLSX or CSV UTF-8"


def row_count_estimate(path: str | Path) -> int:
    """Data rows in a file, cheaply (for a progress bar): lines of a CSV, recorded dimensions of an XLSX."""
    if file_format(path) == "xlsx":
        xlsx_archive_check(path)
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
