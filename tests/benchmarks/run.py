"""`make bench`: runs every tests/benchmarks/bench_*.py module and prints its figures.

Each module defines `run(size: str) -> list[str | BenchRow]` (tests/benchmarks/table.py) and sizes itself
from `size` ("tiny" in CI to prove it works, "full" for the figures in the issue notes). Strings are printed
as they come; each BenchRow is printed as a line and gathered into the one table printed at the end, with
the growth of every scenario measured at two sizes, and written to JSON (`--json`, bench-results.json by
default). Benchmarks run against a throwaway database created for the run (SQLite by default, PostgreSQL
when DATABASE_URL says so) and report ratios against a baseline measured in the same run, never absolute
times compared to a constant.
"""

import argparse
import importlib
import os
import pkgutil
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="full", choices=["tiny", "small", "full"])
    parser.add_argument("--json", default="bench-results.json", help="where the table's rows are written")
    parser.add_argument("only", nargs="*", help="benchmark module names (e.g. bench_mapping_import)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    os.environ["BENCH_SIZE"] = args.size
    root = Path(__file__).resolve().parents[2]
    os.environ.setdefault("SQLITE_TEST_NAME", str(root / ".bench.sqlite3"))
    sys.path.insert(0, str(root))

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    from tests.benchmarks.table import BenchRow, render, write_json

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    database = _database_name(connection)
    rows: list[BenchRow] = []
    failures: list[str] = []
    try:
        package = Path(__file__).parent
        names = sorted(m.name for m in pkgutil.iter_modules([str(package)]) if m.name.startswith("bench_"))
        for name in names:
            if args.only and name not in args.only:
                continue
            module = importlib.import_module(f"tests.benchmarks.{name}")
            print(f"== {name} ({args.size}) ==", flush=True)
            started = time.perf_counter()
            try:
                for line in module.run(args.size):
                    if isinstance(line, BenchRow):
                        rows.append(line)
                        line = line.line()
                    print(f"  {line}", flush=True)
            except Exception as exc:  # one broken benchmark must not hide the others
                failures.append(f"{name}: {exc!r}"[:2000])
                print(f"  FAILED: {exc!r}"[:2000], flush=True)
            print(f"  ({time.perf_counter() - started:.1f}s)", flush=True)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        del settings
    print(flush=True)
    for line in render(rows, database=database, size=args.size):
        print(line, flush=True)
    for failure in failures:
        print(f"FAILED {failure}", flush=True)
    output = Path(args.json)
    write_json(output, rows, database=database, size=args.size, failures=failures)
    print(f"(rows written to {output})", flush=True)
    return 1 if failures else 0


def _database_name(connection) -> str:
    """The table names the database: vendor and server version."""
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        version = connection.pg_version
        return f"PostgreSQL {version // 10000}.{version % 10000}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


if __name__ == "__main__":
    sys.exit(main())
