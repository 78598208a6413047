"""The one table of `make bench`: the typed row every benchmark reports, how a row is measured, and the output.

A benchmark module's `run(size)` returns a list of `str | BenchRow`. Strings are printed as they come (the
module's own commentary); each `BenchRow` is printed as one human line too, and is gathered by run.py into
the table printed at the end and written to JSON (`bench-results.json`, or `--json PATH`).

A row is one scenario at one size: Switchyard's time, the baseline's time measured in the same run (or
sampled and extrapolated, which `sampled` says), the queries Switchyard sent and the memory its work added
at its peak. `ratio` is always baseline seconds / Switchyard seconds, so higher is better everywhere: 36x
against a naive loop, 0.9x against a floor that checks nothing. `target` is the least acceptable ratio.

Growth: a scenario reported at two sizes (the same `scenario` string, different `size`) gets a growth
factor, (time at the larger size / time at the smaller) / (larger size / smaller size): 1.0 is linear,
below 1 is better than linear (fixed costs amortised), above 1 worse. Above GROWTH_LIMIT it is flagged, unless
the larger size took less than GROWTH_MIN_SECONDS (then it is "too short to judge": read it at a bigger size).
"""

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

GROWTH_LIMIT = 1.15  # linear, with room for a shared machine's noise; anything above is flagged
GROWTH_MIN_SECONDS = 0.2  # a larger size done faster than this is too short to judge (timer and machine noise)


@dataclass(frozen=True)
class BenchRow:
    scenario: str  # what is measured, the same at every size: "mapping import (CSV) vs bulk_create floor"
    size: int  # how many `unit`s
    seconds: float  # Switchyard's time
    unit: str = "rows"
    baseline: str = ""  # what it is compared with: "bulk_create floor", "update_or_create loop"
    baseline_seconds: float | None = None  # the baseline's time at `size`, measured in this run
    sampled: str = ""  # when the baseline ran on a sample and was extrapolated: how (e.g. "500 of 100,000, linear")
    queries: int | None = None  # queries Switchyard sent
    peak_mb: float | None = None  # memory Switchyard's work added at its peak (MB over its start)
    target: float | None = None  # the least acceptable ratio
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline_seconds is None or self.seconds <= 0:
            return None
        return self.baseline_seconds / self.seconds

    @property
    def below_target(self) -> bool:
        ratio = self.ratio
        return self.target is not None and ratio is not None and ratio < self.target

    def line(self) -> str:
        """The row as one human line (what run.py prints where the module returned it)."""
        text = f"[{self.scenario}] {self.size:,} {self.unit}: Switchyard {_seconds(self.seconds)}"
        if self.baseline_seconds is not None:
            text += f", {self.baseline or 'baseline'} {_seconds(self.baseline_seconds)}"
            text += f" -> {self.ratio:.2f}x" + (f" (target >= {self.target:.2g}x)" if self.target is not None else "")
            text += "  BELOW TARGET" if self.below_target else ""
        if self.sampled:
            text += f"; baseline sampled: {self.sampled}"
        if self.queries is not None:
            text += f"; {self.queries:,} queries"
        if self.peak_mb is not None:
            text += f"; peak +{self.peak_mb:.0f} MB"
        return text + (f"; {self.note}" if self.note else "")


@dataclass
class Measure:
    """Filled in by `measured()` when its block ends."""

    seconds: float = 0.0
    queries: int = 0
    peak_mb: float | None = None
    verbs: dict[str, int] = field(default_factory=dict)  # queries by first SQL word: {"SELECT": 3, "INSERT": 20}


@contextlib.contextmanager
def measured(*, queries: bool = True, memory: bool = True) -> Iterator[Measure]:
    """Times the block, counts the queries it sends (no query log) and the memory it adds at its peak.

    Memory is the process's resident high-water mark (VmHWM, reset through /proc/self/clear_refs at the start)
    minus its resident size at the start: cheap, unlike tracemalloc, and it counts C allocations too. Where
    Linux does not allow the reset, peak_mb stays None.
    """
    result = Measure()
    counts: dict[str, int] = {}
    wrapper: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    if queries:
        from django.db import connection

        def count(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            verb = sql.split(None, 1)[0].upper() if sql else "?"
            counts[verb] = counts.get(verb, 0) + 1
            return execute(sql, params, many, context)

        wrapper = connection.execute_wrapper(count)
    start_rss = _reset_peak() if memory else None
    with wrapper:
        started = time.perf_counter()
        try:
            yield result
        finally:
            result.seconds = time.perf_counter() - started
            if start_rss is not None:
                result.peak_mb = max(0.0, _status_mb("VmHWM") - start_rss)
            result.queries = sum(counts.values())
            result.verbs = dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def _reset_peak() -> float | None:
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return _status_mb("VmRSS")
    except OSError:
        return None


def _status_mb(key: str) -> float:
    with open(f"/proc/{os.getpid()}/status") as status:
        kilobytes = next(line.split()[1] for line in status if line.startswith(f"{key}:"))
    return int(kilobytes) / 1024


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f}s"


# -- the table -----------------------------------------------------------------------------------------------


def growth(rows: Sequence[BenchRow]) -> list[dict[str, Any]]:
    """Per scenario reported at two or more sizes: smallest vs largest, and the growth factor."""
    by_scenario: dict[str, list[BenchRow]] = {}
    for row in rows:
        by_scenario.setdefault(row.scenario, []).append(row)
    result = []
    for scenario, group in by_scenario.items():
        sizes = sorted({row.size for row in group})
        if len(sizes) < 2:
            continue
        small = min((r for r in group if r.size == sizes[0]), key=lambda r: r.seconds)
        large = min((r for r in group if r.size == sizes[-1]), key=lambda r: r.seconds)
        size_ratio = large.size / small.size
        time_ratio = large.seconds / small.seconds if small.seconds > 0 else float("inf")
        factor = time_ratio / size_ratio
        result.append(
            {
                "scenario": scenario,
                "sizes": [small.size, large.size],
                "seconds": [small.seconds, large.seconds],
                "size_ratio": size_ratio,
                "time_ratio": time_ratio,
                "growth": factor,
                "worse_than_linear": factor > GROWTH_LIMIT and large.seconds >= GROWTH_MIN_SECONDS,
                "too_short": large.seconds < GROWTH_MIN_SECONDS,
            }
        )
    return result


def render(rows: Sequence[BenchRow], *, database: str, size: str) -> list[str]:
    """The table printed at the end of `make bench`, then the growth of each scenario at two sizes."""
    header = ("scenario", "size", "Switchyard", "baseline", "ratio", "target", "queries", "peak MB")
    body = [
        (
            row.scenario,
            f"{row.size:,} {row.unit}",
            _seconds(row.seconds),
            _baseline_cell(row),
            f"{row.ratio:.2f}x" if row.ratio is not None else "-",
            (f">= {row.target:.2g}x" + (" BELOW" if row.below_target else "")) if row.target is not None else "-",
            f"{row.queries:,}" if row.queries is not None else "-",
            f"{row.peak_mb:.0f}" if row.peak_mb is not None else "-",
        )
        for row in rows
    ]
    lines = [f"== results: database {database}, size {size} (ratio = baseline time / Switchyard time) =="]
    lines += _columns([header, *body])
    sampled = [row for row in rows if row.sampled]
    if sampled:
        lines.append("* baseline sampled and extrapolated: " + "; ".join(f"{r.scenario}: {r.sampled}" for r in sampled))
    grown = growth(rows)
    if grown:
        lines.append(f"== growth (time ratio / size ratio; 1.0 = linear, flagged above {GROWTH_LIMIT}) ==")
        table = [("scenario", "sizes", "times", "growth", "")]
        for g in grown:
            table.append(
                (
                    g["scenario"],
                    f"{g['sizes'][0]:,} -> {g['sizes'][1]:,}",
                    f"{_seconds(g['seconds'][0])} -> {_seconds(g['seconds'][1])}",
                    f"{g['growth']:.2f}",
                    "WORSE THAN LINEAR" if g["worse_than_linear"] else "too short to judge" if g["too_short"] else "ok",
                )
            )
        lines += _columns(table)
    return lines


def write_json(path: Path, rows: Sequence[BenchRow], *, database: str, size: str, failures: list[str]) -> None:
    document = {
        "database": database,
        "size": size,
        "ratio": "baseline_seconds / seconds (higher is better)",
        "rows": [{**asdict(row), "ratio": row.ratio, "database": database} for row in rows],
        "growth": growth(rows),
        "growth_limit": GROWTH_LIMIT,
        "failures": failures,
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _baseline_cell(row: BenchRow) -> str:
    if row.baseline_seconds is None:
        return row.baseline or "-"
    return f"{_seconds(row.baseline_seconds)} {row.baseline}".strip() + (" *" if row.sampled else "")


def _columns(table: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(cells[i]) for cells in table) for i in range(len(table[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip() for cells in table]
