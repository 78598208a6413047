"""Mapping import: `import_mappings` against the floor and against django-import-export's default import.

One CSV of N listings (one per item, N items; tiny 500, small 10k, full 100k) is imported three ways on
the benchmark database, each time into an empty mapping table:
- import_mappings: the command, in this process, through `mapping_import` (checks, upsert, summary);
- the floor (tests/benchmarks/mapping_floor.py): a separate `manage.py shell` process that reads the CSV
  and bulk_creates the rows with one prefetched item dict, and checks nothing;
- the default (tests/benchmarks/mapping_default.py): a plain ModelResource with ForeignKeyWidgets, the
  library's row-by-row import, on the first DEFAULT_ROWS rows, scaled linearly to N when that is fewer.
import_mappings and the floor run alternately, ROUNDS times, and their medians are compared. Then a
peak-memory run: `import_mappings` on the same listings as XLSX, in a fresh process (its VmHWM). And
auto-mapping those N listings against the N items, as a set-based check on the other mapping service.
Times exclude Django start-up on every side. Targets: import/floor <= 3, default/import >= 20, peak < 500 MB.
"""

import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from django.core.management import call_command
from django.db import connection

from catalog.automap import mapping_automap
from catalog.models import Item, ItemMapping
from integrations.models import Channel, ChannelKind
from tests.benchmarks.mapping_default import default_import_seconds

ROWS = {"tiny": 500, "small": 10_000, "full": 100_000}
ROUNDS = {"tiny": 1, "small": 3, "full": 3}
DEFAULT_ROWS = {"tiny": 500, "small": 10_000, "full": 100_000}
ROUNDS = {"tiny": 1, "small": 3, "full": 3}
ROOT = Path(__file__).resolve().parents[2]
CHANNEL = "bench-mapping"
PREFIX = "BM"  # this benchmark's items, apart from any other benchmark's


def run(size: str) -> list[str]:
    rows = ROWS[size]
    _seed(rows)
    with tempfile.TemporaryDirectory(prefix="bench-mapping-") as folder:
        csv_path, xlsx_path = Path(folder) / "mappings.csv", Path(folder) / "mappings.xlsx"
        _write_csv(csv_path, rows)
        _write_xlsx(xlsx_path, rows)
        ours, floors, queries = [], [], Counter()
        for _ in range(ROUNDS[size]):  # alternate, so a warming cache or a busy moment hits both sides
            seconds, queries = _import_mappings(csv_path)
            ours.append(seconds)
            floors.append(_floor(csv_path))
        default, default_rows = _default(csv_path, DEFAULT_ROWS[size])
        peak = _peak(xlsx_path)
    automap, automap_queries = _automap()
    ours_s, floor_s = statistics.median(ours), statistics.median(floors)
    default_full = default * rows / default_rows
    scaled = "" if default_rows == rows else f" (measured on {default_rows} rows, scaled linearly to {rows})"
    return [
        f"database: {connection.vendor}; {rows} listings, {rows} items; median of {len(ours)} rounds",
        f"import_mappings: {ours_s:.2f}s ({rows / ours_s:,.0f} rows/s); floor (bulk_create, no checks): {floor_s:.2f}s",
        f"django-import-export default: {default_full:.1f}s ({default_rows / default:,.0f} rows/s){scaled}",
        f"import_mappings / floor = {ours_s / floor_s:.2f}x (target <= 3x)",
        f"default / import_mappings = {default_full / ours_s:.1f}x (target >= 20x)",
        f"import_mappings queries: {sum(queries.values())} ({_breakdown(queries)})",
        f"XLSX {rows} rows, fresh process: peak RSS {peak['peak_rss_mb']} MB (after Django start-up "
        f"{peak['rss_after_setup_mb']} MB), {float(peak['seconds']):.2f}s (target < 500 MB)",
        f"auto-map {rows} listings against {rows} items: {automap:.2f}s, {sum(automap_queries.values())} queries "
        f"({_breakdown(automap_queries)})",
    ]


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


def _write_xlsx(path: Path, rows: int) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["channel", "channel_sku", "item_sku", "item_upc", "channel_product_id", "channel_upc", "ignore"])
    for n in range(rows):
        sheet.append([CHANNEL, _sku(n), _sku(n), None, f"P{n}", _upc(n), "no"])
    book.save(path)


def _counting(counts: Counter):
    def count(execute, sql, params, many, context):
        counts[sql.split(None, 1)[0].upper()] += 1
        return execute(sql, params, many, context)

    return connection.execute_wrapper(count)


def _import_mappings(path: Path) -> tuple[float, Counter]:
    _mappings().delete()
    queries: Counter = Counter()
    with _counting(queries), contextlib.redirect_stderr(io.StringIO()):  # the progress bar
        started = time.perf_counter()
        call_command("import_mappings", str(path), stdout=io.StringIO())
        seconds = time.perf_counter() - started
    _expect_mappings(path)
    return seconds, queries


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


def _automap() -> tuple[float, Counter]:
    listings = _mappings()
    listings.update(item=None, method="", status="unmapped", note="")
    queries: Counter = Counter()
    with _counting(queries):
        started = time.perf_counter()
        counts = mapping_automap(mappings=listings).counts
        seconds = time.perf_counter() - started
    if counts["mapped"] != listings.count():
        raise RuntimeError(f"auto-map mapped {counts['mapped']} of {listings.count()} listings")
    return seconds, queries


def _expect_mappings(path: Path) -> None:
    expected = path.read_text(encoding="utf-8").count("\n") - 1
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


def _breakdown(queries: Counter) -> str:
    return ", ".join(f"{count} {verb}" for verb, count in queries.most_common())
