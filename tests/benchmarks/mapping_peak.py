"""Peak memory of `import_mappings` on one file, in a fresh process: `python -m tests.benchmarks.mapping_peak FILE`.

Prints `rss_after_setup_mb=… peak_rss_mb=… seconds=…`: the process's resident set after Django start-up,
its peak (getrusage maxrss) over the whole import, and the import's time. The database is the one
DATABASE_URL names (the benchmark's).
"""

import contextlib
import io
import os
import resource
import sys
import time


def _rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(path: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    after_setup = _rss_mb()
    started = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()):  # the progress bar
        call_command("import_mappings", path, stdout=io.StringIO())
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    print(f"rss_after_setup_mb={after_setup:.0f} peak_rss_mb={peak:.0f} seconds={seconds:.3f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
