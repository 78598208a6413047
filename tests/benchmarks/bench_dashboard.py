"""The admin dashboard at scale: its time and query count over N orders, N listings and two months of runs.

N (full: 1,000,000 on PostgreSQL; small 100,000; tiny 2,000; each also at N / 10 first, for the growth)
orders come from the orders-admin benchmark's seeding (three channels, three years); as many listings, mostly
ignored, some unmapped or in conflict; a run an hour of ten flows on each channel for 60 days (tiny: 3). The page is fetched as a superuser: one warm-up,
then the best of three. Target: well under a second, and the same number of queries at every size.
"""

import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from catalog.models import ItemMapping, MappingStatus
from integrations.models import Channel, SyncRun
from tests.benchmarks.bench_orders_admin import GROWTH_FROM, ORDERS, SQLITE_CAP, _populate
from tests.benchmarks.table import BenchRow

FLOWS = ["orders.download", "orders.acknowledge", "shipments.upload", "inventory.upload", "integrations.ping",
         "catalog.download", "inventory.download", "cancellations.download", "orders.submit", "shipments.download"]  # fmt: skip
DAYS = {"tiny": 3, "small": 60, "full": 60}
CHUNK = 20_000


def run(size: str) -> list[str | BenchRow]:
    lines: list[str | BenchRow] = []
    for fraction in (GROWTH_FROM, 1):  # two sizes, for the growth
        lines += _run(size, ORDERS[size] // fraction)
    return lines


def _run(size: str, n: int) -> list[str | BenchRow]:
    capped = connection.vendor != "postgresql" and n > SQLITE_CAP
    n = min(n, SQLITE_CAP) if capped else n
    try:
        with override_settings(DEBUG=False):
            started = time.perf_counter()
            channels = _populate(n)
            _listings(n, channels)
            runs = _runs(DAYS[size], Channel.objects.all())
            seeded = time.perf_counter() - started
            client = Client()
            client.force_login(get_user_model().objects.create_superuser("bench-dash", password="x"))
            seconds, queries = _measure(client)
    finally:
        # The benchmarks share one database, and bench_orders_admin seeds the same channels after this one.
        call_command("flush", interactive=False, verbosity=0)
    note = " (capped: SQLite; set DATABASE_URL for the 1M figures)" if capped else ""
    return [
        f"database: {connection.vendor}; {n:,} orders, {n:,} listings, {runs:,} sync runs{note}; "
        f"seeded in {seeded:.1f}s",
        BenchRow("admin dashboard", n, seconds, "orders", queries=queries,
                 note="best of 3; target: well under 1s, the same queries at every size"),
    ]  # fmt: skip


def _listings(n: int, channels: list[Channel]) -> None:
    statuses = [MappingStatus.UNMAPPED] * 5 + [MappingStatus.CONFLICT] + [MappingStatus.IGNORED] * 94
    for start in range(0, n, CHUNK):
        ItemMapping.objects.bulk_create(
            ItemMapping(channel=channels[i % 3], channel_sku=f"L-{i}", status=statuses[i % 100])
            for i in range(start, min(n, start + CHUNK))
        )


def _runs(days: int, channels) -> int:
    now = timezone.now()
    rows = [
        SyncRun(channel=channel, flow=flow, status=SyncRun.Status.FAILED if hour < 5 else SyncRun.Status.OK)
        for channel in channels
        for flow in FLOWS
        for hour in range(days * 24)
    ]
    starts = [now - timedelta(hours=hour) for _ in channels for _ in FLOWS for hour in range(days * 24)]
    created = SyncRun.objects.bulk_create(rows, batch_size=5000)
    for run, started in zip(created, starts, strict=True):  # started_at is auto_now_add
        run.started_at = started
    SyncRun.objects.bulk_update(created, ["started_at"], batch_size=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE catalog_itemmapping; ANALYZE integrations_syncrun")
    return len(rows)


def _measure(client: Client) -> tuple[float, int]:
    assert client.get("/admin/").status_code == 200  # warm-up
    times = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get("/admin/")
            times.append(time.perf_counter() - started)
        assert response.status_code == 200
    return min(times), len(queries)
