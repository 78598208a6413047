"""The orders changelist at scale: query count and time of the first page and of filtered pages.

N orders (full: 1,000,000 on PostgreSQL; tiny 2,000; small 100,000; each also at N / 10 first, for the
growth) spread over three sales channels and three years, mostly shipped, some held, a few with open sync issues, are written with the ingest's
executemany insert, then each page is fetched through the test client as a superuser: one warm-up, then
the best of three. On SQLite N is capped (SQLITE_CAP) and the output says so: the figures that matter are
PostgreSQL's (set DATABASE_URL). Target: every page well under a second with a constant query count.
"""

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from integrations.bulk import rows_insert
from integrations.models import Channel, ChannelKind, ChannelRole, SyncIssue
from orders.models import Customer, HoldReason, Order, OrderStatus
from tests.benchmarks.table import BenchRow

ORDERS = {"tiny": 2_000, "small": 100_000, "full": 1_000_000}
GROWTH_FROM = 10  # each size is measured at N / GROWTH_FROM first, for the growth
SQLITE_CAP = 100_000
CUSTOMERS = 10_000
CHUNK = 20_000
START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=3 * 365)
URL = "/admin/orders/order/"
# status by n % 100: mostly shipped, the rest spread like a working day's backlog.
STATUSES = (
    [OrderStatus.HELD] * 3
    + [OrderStatus.SUBMITTED] * 3
    + [OrderStatus.ACKNOWLEDGED] * 2
    + [OrderStatus.DOWNLOADED, OrderStatus.CANCELLED]
    + [OrderStatus.SHIPPED] * 90
)
HOLDS = (HoldReason.UNMAPPED_SKU, HoldReason.INACTIVE_ITEM, HoldReason.SHIP_TO_INCOMPLETE)


def run(size: str) -> list[str | BenchRow]:
    lines: list[str | BenchRow] = []
    for fraction in (GROWTH_FROM, 1):
        lines += _run(size, ORDERS[size] // fraction)
        call_command("flush", interactive=False, verbosity=0)  # the next size (and benchmark) seeds the same channels
    return lines


def _run(size: str, n: int) -> list[str | BenchRow]:
    capped = connection.vendor != "postgresql" and n > SQLITE_CAP
    n = min(n, SQLITE_CAP) if capped else n
    with override_settings(DEBUG=False):
        started = time.perf_counter()
        channels = _populate(n)
        seeded = time.perf_counter() - started
        lines: list[str | BenchRow] = [
            f"database: {connection.vendor}; {n:,} orders"
            + (f" (capped from {ORDERS[size]:,}: SQLite; set DATABASE_URL for the 1M figures)" if capped else "")
            + f"; seeded in {seeded:.1f}s",
        ]
        client = Client()
        client.force_login(get_user_model().objects.create_superuser("bench-orders", password="x"))
        for label, query in _pages(channels[0], n):
            seconds, queries = _measure(client, URL + query)
            lines.append(BenchRow(f"orders changelist, {label}", n, seconds, "orders", queries=queries,
                                  note="best of 3; target: well under 1s, the same queries at every size"))  # fmt: skip
    return lines


def _pages(channel: Channel, n: int) -> list[tuple[str, str]]:
    sample = Order.objects.filter(channel=channel).order_by("pk").values_list("number", flat=True)[n // 6]
    return [
        ("first page", ""),
        ("filtered: status held", "?status__exact=held"),
        ("filtered: channel + status shipped", f"?channel={channel.pk}&status__exact=shipped"),
        ("filtered: hold reason", "?hold_reason__exact=unmapped_sku"),
        ("filtered: open issues", "?issues=yes"),
        ("date drill-down: one year", "?placed_at__year=2025"),
        ("search: an order number", f"?q={sample}"),
        ("a deep page of the unfiltered list (50, or the last)", f"?p={min(50, n // 100)}"),
    ]


def _measure(client: Client, url: str) -> tuple[float, int]:
    assert client.get(url).status_code == 200, url  # warm-up
    times = []
    for _ in range(3):
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, url
    return min(times), len(queries)


def _populate(n: int) -> list[Channel]:
    fulfillment = Channel.objects.create(
        slug="bench-oms", name="Bench OMS", kind=ChannelKind.OMS, role=ChannelRole.FULFILLMENT
    )
    channels = [
        Channel.objects.create(slug=f"bench-shop-{i}", name=f"Bench shop {i}", kind=kind, fulfillment=fulfillment)
        for i, kind in enumerate((ChannelKind.CHANNELADVISOR, ChannelKind.NUORDER, ChannelKind.EXTENSIV))
    ]
    Customer.objects.bulk_create(
        Customer(channel=channels[i % 3], external_id=f"C{i}", name=f"Customer {i}") for i in range(CUSTOMERS)
    )
    customers = dict(Customer.objects.values_list("external_id", "pk"))
    for start in range(0, n, CHUNK):
        rows_insert([_order(i, channels, customers) for i in range(start, min(n, start + CHUNK))], model=Order)
    held = Order.objects.filter(status=OrderStatus.HELD).values_list("channel_id", "external_id")[:100]
    SyncIssue.objects.bulk_create(
        SyncIssue(channel_id=channel_id, flow="orders.download", record_key=key, message="bench")
        for channel_id, key in held
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE orders_order; ANALYZE orders_customer; ANALYZE integrations_syncissue")
    return channels


def _order(i: int, channels: list[Channel], customers: dict[str, int]) -> dict:
    status = STATUSES[i % 100]
    placed = START + SPAN * (((i * 7919) % 1_000_003) / 1_000_003)
    hold = HOLDS[i % 3] if status == OrderStatus.HELD else ""
    return {
        "channel_id": channels[i % 3].pk,
        "external_id": str(1_000_000 + i),
        "number": f"B-{1_000_000 + i}",
        "fulfillment_number": "" if status in (OrderStatus.HELD, OrderStatus.DOWNLOADED) else f"SO-{i}",
        "status": status,
        "hold_reason": hold,
        "hold_detail": "bench" if hold else "",
        "placed_at": placed,
        "customer_id": customers[f"C{i % CUSTOMERS}"],
        "ship_to": {"name": "Ann Lee", "city": "Durham", "country": "US"},
        "total": Decimal("125.00"),
        "raw": {"id": i},
        "created_at": placed,
        "updated_at": placed,
    }
