"""`make bench`: runs every tests/benchmarks/bench_*.py module and prints its figures.

Each module defines `run(size: str) -> list[str]` and sizes itself from `size` ("tiny" in CI to prove it
works, "full" for the figures in the issue notes). Benchmarks run against a throwaway database created
for the run (SQLite by default, PostgreSQL when DATABASE_URL says so) and report ratios against a
baseline measured in the same run, never absolute times compared to a constant.
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

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    failures = 0
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
                    print(f"  {line}", flush=True)
            except Exception as exc:  # one broken benchmark must not hide the others
                failures += 1
                print(f"  FAILED: {exc!r}", flush=True)
            print(f"  ({time.perf_counter() - started:.1f}s)", flush=True)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        del settings
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
