"""The bench table's arithmetic (tests/benchmarks/table.py): ratios, growth and what gets flagged."""

import json

from tests.benchmarks.table import BenchRow, growth, measured, render, write_json


def test_ratio_is_baseline_over_switchyard_and_a_row_below_its_target_says_so():
    fast = BenchRow("import", 1000, 0.5, baseline="floor", baseline_seconds=1.0, target=1.5)
    assert fast.ratio == 2.0 and not fast.below_target
    slow = BenchRow("import", 1000, 2.0, baseline="floor", baseline_seconds=1.0, target=0.9)
    assert slow.ratio == 0.5 and slow.below_target
    assert "BELOW TARGET" in slow.line()
    assert BenchRow("dashboard", 10, 0.1).ratio is None


def test_growth_compares_the_smallest_and_largest_size_and_flags_worse_than_linear():
    rows = [
        BenchRow("linear", 1_000, 1.0),
        BenchRow("linear", 10_000, 9.0),
        BenchRow("quadratic", 1_000, 1.0),
        BenchRow("quadratic", 10_000, 100.0),
        BenchRow("one size", 10, 1.0),
    ]
    figures = {g["scenario"]: g for g in growth(rows)}
    assert set(figures) == {"linear", "quadratic"}
    assert round(figures["linear"]["growth"], 2) == 0.9 and not figures["linear"]["worse_than_linear"]
    assert figures["quadratic"]["growth"] == 10.0 and figures["quadratic"]["worse_than_linear"]
    text = "\n".join(render(rows, database="SQLite 3", size="tiny"))
    assert "database SQLite 3" in text and "WORSE THAN LINEAR" in text


def test_growth_of_a_scenario_too_short_to_time_is_not_flagged():
    (figure,) = growth([BenchRow("blink", 100, 0.01), BenchRow("blink", 200, 0.05)])
    assert figure["growth"] == 2.5 and figure["too_short"] and not figure["worse_than_linear"]


def test_a_sampled_baseline_is_marked_in_the_table_and_the_json(tmp_path):
    row = BenchRow("mapping import vs default", 100_000, 3.0, baseline="default", baseline_seconds=90.0,
                   sampled="10,000 of 100,000 rows, scaled linearly")  # fmt: skip
    text = "\n".join(render([row], database="PostgreSQL 16.4", size="full"))
    assert "90.00s default *" in text and "baseline sampled and extrapolated" in text
    path = tmp_path / "out.json"
    write_json(path, [row], database="PostgreSQL 16.4", size="full", failures=[])
    document = json.loads(path.read_text())
    assert document["rows"][0]["sampled"].startswith("10,000") and document["rows"][0]["ratio"] == 30.0
    assert document["rows"][0]["database"] == "PostgreSQL 16.4"


def test_measured_times_the_block_and_sees_the_memory_it_adds():
    with measured(queries=False) as measure:
        block = bytearray(64 * 2**20)
        block[::4096] = b"x" * len(block[::4096])  # touch every page, so it is resident
    assert measure.seconds > 0
    assert measure.peak_mb is None or measure.peak_mb >= 60
