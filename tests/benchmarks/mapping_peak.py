"""Peak memory of `import_mappings` on one file, in a fresh process: `python -m tests.benchmarks.mapping_peak FILE`.

Prints `rss_after_setup_mb=… peak_rss_mb=… seconds=…`: the process's resident set after Django start-up,
its peak over the whole import, and the import's time. The database is the one DATABASE_URL names (the
benchmark's).

The peak is VmHWM, the high-water mark of this process's own memory, not getrusage's maxrss: Linux carries
the parent's high-water mark into a child across fork and exec, so maxrss here would report the benchmark
runner's size whenever it is the larger (it was, at 565 MB, after bench_catalog_download).
"""

import contextlib
import io
import os
import sys
import time


def _rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _high_water_mb() -> float:
    with open(f"/proc/{os.getpid()}/status") as status:
        kilobytes = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    return int(kilobytes) / 1024


def main(path: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.core.management import call_command

    after_setup = _rss_mb()
    started = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()):  # the progress bar
        call_command("import_mappings", path, stdout=io.StringIO())
    seconds = time.perf_counter() - started
    peak = _high_water_mb()
    print(f"rss_after_setup_mb={after_setup:.0f} peak_rss_mb={peak:.0f} seconds={seconds:.3f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
