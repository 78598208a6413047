"""Mapping import: `import_mappings` against the floor, django-import-export's default import, and XLSX vs CSV.

One CSV of N listings (one per item, N items), at two sizes for the growth (tiny 200 and 1,000, small 2,000
and 10,000, full 10,000 and 100,000), is imported several ways on the benchmark database, each time into an
empty mapping table:
- import_mappings: the command, in this process, through `mapping_import` (checks, upsert, summary);
- the floor (tests/benchmarks/mapping_floor.py): a separate `manage.py shell` process that reads the CSV
  and bulk_creates the rows with one prefetched item dict, and checks nothing;
- the default (tests/benchmarks/mapping_default.py): a plain ModelResource with ForeignKeyWidgets, the
  library's row-by-row import, on the first DEFAULT_ROWS rows, scaled linearly to N when that is fewer;
- XLSX vs CSV: `manage.py import_mappings FILE` as whole processes (Django start-up included), the same
  rows cell for cell (seven columns) as XLSX (inline strings, as openpyxl's write-only mode saves them) and
  as CSV.
import_mappings, the floor and the two processes run alternately, ROUNDS times, and their medians are
compared. At the larger size, a peak-memory run: `import_mappings` on the XLSX in a fresh process (its VmHWM).
And auto-mapping those N listings against the N items, as a set-based check on the other mapping service.
Times exclude Django start-up except for the whole processes. Targets: floor/import >= 1/3, default/import
>= 20, CSV process / XLSX process >= 0.5, peak < 500 MB.
"""

import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.core.management import call_command
from django.db import connection

from catalog.automap import mapping_automap
from catalog.models import Item, ItemMapping
from integrations.models import Channel, ChannelKind
from tests.benchmarks.mapping_default import default_import_seconds
from tests.benchmarks.table import BenchRow, Measure, measured

# Two sizes each, for the growth; the default import runs on at most DEFAULT_ROWS rows, scaled linearly beyond.
SIZES = {"tiny": (200, 1_000), "small": (2_000, 10_000), "full": (10_000, 100_000)}
DEFAULT_ROWS = {"tiny": 1_000, "small": 10_000, "full": 100_000}
ROUNDS = {"tiny": 1, "small": 3, "full": 3}
ROOT = Path(__file__).resolve().parents[2]
CHANNEL = "bench-mapping"
PREFIX = "BM"  # this benchmark's items, apart from any other benchmark's


def run(size: str) -> list[str | BenchRow]:
    lines: list[str | BenchRow] = []
    for rows in SIZES[size]:
        lines += _run(rows, size, peak=rows == SIZES[size][-1])
    return lines


def _run(rows: int, size: str, *, peak: bool) -> list[str | BenchRow]:
    _seed(rows)
    with tempfile.TemporaryDirectory(prefix="bench-mapping-") as folder:
        csv_path, xlsx_path = Path(folder) / "mappings.csv", Path(folder) / "mappings.xlsx"
        same_path = Path(folder) / "same-as-xlsx.csv"
        _write_csv(csv_path, rows)
        _write_xlsx(xlsx_path, rows)
        _write_same_csv(same_path, rows)
        ours, floors, measure = [], [], Measure()
        csv_process, xlsx_process = [], []
        for n in range(ROUNDS[size]):  # alternate, so a warming cache or a busy moment hits both sides
            measure = _import_mappings(csv_path)
            ours.append(measure.seconds)
            floors.append(_floor(csv_path))
            for path, times in [(same_path, csv_process), (xlsx_path, xlsx_process)][:: 1 if n % 2 == 0 else -1]:
                times.append(_process(path))
        default, default_rows = _default(csv_path, min(rows, DEFAULT_ROWS[size]))
        memory = _peak(xlsx_path) if peak else None
    automap = _automap()
    ours_s, floor_s = statistics.median(ours), statistics.median(floors)
    default_full = default * rows / default_rows
    sampled = "" if default_rows == rows else f"measured on {default_rows:,} of {rows:,} rows, scaled linearly"
    csv_s, xlsx_s = statistics.median(csv_process), statistics.median(xlsx_process)
    lines: list[str | BenchRow] = [
        f"database: {connection.vendor}; {rows} listings, {rows} items; median of {len(ours)} rounds",
        f"import_mappings queries: {measure.queries} ({_breakdown(measure.verbs)})",
        BenchRow("mapping import (CSV) vs bulk_create floor", rows, ours_s, "rows", "bulk_create floor", floor_s,
                 queries=measure.queries, peak_mb=measure.peak_mb, target=1 / 3,
                 note="floor: a separate process, no checks"),
        BenchRow("mapping import (CSV) vs django-import-export default", rows, ours_s, "rows",
                 "import-export default", default_full, sampled=sampled, queries=measure.queries, target=20),
        BenchRow("mapping import, XLSX vs CSV (whole processes)", rows, xlsx_s, "rows",
                 "the CSV's process", csv_s, peak_mb=memory and float(memory["peak_rss_mb"]) - float(memory["rss_after_setup_mb"]),
                 target=0.5, note="manage.py import_mappings, Django start-up included"),
        BenchRow("auto-map listings against items", rows, automap.seconds, "listings", queries=automap.queries,
                 peak_mb=automap.peak_mb),
    ]  # fmt: skip
    if memory:
        lines.append(
            f"XLSX {rows} rows, fresh process: peak RSS {memory['peak_rss_mb']} MB (after Django start-up "
            f"{memory['rss_after_setup_mb']} MB), import {float(memory['seconds']):.2f}s (target < 500 MB)"
        )
    return lines


def _seed(rows: int) -> None:
    _mappings().delete()
    Item.objects.filter(item_number__startswith=PREFIX).delete()
    items = (
        Item(sku=_sku(n), item_number=f"{PREFIX}{n:06d}", color_code="RED", prepack_run="X", size="5", upc=_upc(n))
        for n in range(rows)
    )
    Item.objects.bulk_create(items, batch_size=5000)


def _mappings():
    channel, _ = Channel.objects.get_or_create(
        slug=CHANNEL, defaults={"name": "Bench", "kind": ChannelKind.CHANNELADVISOR}
    )
    return ItemMapping.objects.filter(channel=channel)


def _sku(n: int) -> str:
    return f"{PREFIX}{n:06d}-RED-X-5"


def _upc(n: int) -> str:
    return f"97{n:010d}"


def _write_csv(path: Path, rows: int) -> None:
    # The listing SKU follows the item pattern, so auto-mapping has something to find afterwards.
    lines = (f"{CHANNEL},{_sku(n)},{_sku(n)}\n" for n in range(rows))
    path.write_text("channel,channel_sku,item_sku\n" + "".join(lines), encoding="utf-8")


XLSX_HEADER = ["channel", "channel_sku", "item_sku", "item_upc", "channel_product_id", "channel_upc", "ignore"]


def _xlsx_row(n: int) -> list[str | None]:
    return [CHANNEL, _sku(n), _sku(n), None, f"P{n}", _upc(n), "no"]


def _write_xlsx(path: Path, rows: int) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(XLSX_HEADER)
    for n in range(rows):
        sheet.append(_xlsx_row(n))
    book.save(path)


def _write_same_csv(path: Path, rows: int) -> None:
    """The XLSX's rows as CSV, cell for cell: the other side of the XLSX-vs-CSV comparison."""
    lines = (",".join(cell or "" for cell in _xlsx_row(n)) + "\n" for n in range(rows))
    path.write_text(",".join(XLSX_HEADER) + "\n" + "".join(lines), encoding="utf-8")


def _import_mappings(path: Path) -> Measure:
    _mappings().delete()
    with contextlib.redirect_stderr(io.StringIO()), measured() as measure:  # stderr: the progress bar
        call_command("import_mappings", str(path), stdout=io.StringIO())
    _expect_mappings(path)
    return measure


def _process(path: Path) -> float:
    """`manage.py import_mappings FILE` as a whole process, Django start-up included: wall seconds."""
    _mappings().delete()
    env = {**os.environ, "DATABASE_URL": _database_url()}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", "import_mappings", str(path)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"import_mappings {path.name} failed: {done.stderr[-2000:]}")
    _expect_mappings(path)
    return seconds


def _floor(path: Path) -> float:
    _mappings().delete()
    code = f"from tests.benchmarks.mapping_floor import main; main({str(path)!r}, {CHANNEL!r})"
    output = _child([sys.executable, "manage.py", "shell", "-c", code])
    _expect_mappings(path)
    return float(output["floor_seconds"])


def _default(path: Path, rows: int) -> tuple[float, int]:
    _mappings().delete()
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    return default_import_seconds("".join(lines[: rows + 1]))


def _peak(path: Path) -> dict[str, str]:
    _mappings().delete()
    return _child([sys.executable, "-m", "tests.benchmarks.mapping_peak", str(path)])


def _automap() -> Measure:
    listings = _mappings()
    listings.update(item=None, method="", status="unmapped", note="")
    with measured() as measure:
        counts = mapping_automap(mappings=listings).counts
    if counts["mapped"] != listings.count():
        raise RuntimeError(f"auto-map mapped {counts['mapped']} of {listings.count()} listings")
    return measure


def _expect_mappings(path: Path) -> None:
    csv_path = path.with_name("mappings.csv")  # every file holds the same listings
    expected = csv_path.read_text(encoding="utf-8").count("\n") - 1
    if _mappings().filter(item__isnull=False).count() != expected:
        raise RuntimeError(f"expected {expected} mappings after importing {path.name}")


def _child(command: list[str]) -> dict[str, str]:
    """Run a process against the benchmark database; its last line is `key=value` pairs."""
    env = {**os.environ, "DATABASE_URL": _database_url()}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command[1:4]} failed: {done.stderr[-2000:]}")
    return dict(pair.split("=", 1) for pair in done.stdout.strip().splitlines()[-1].split())


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
    return f"postgres://{auth}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"


def _breakdown(verbs: dict[str, int]) -> str:
    return ", ".join(f"{count} {verb}" for verb, count in verbs.items())
