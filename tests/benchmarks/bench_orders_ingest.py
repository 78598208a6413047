"""Order ingest: the set-based upsert (orders/ingest.py) against a plain per-order update_or_create loop.

N downloaded orders of 5 lines each, at two sizes for the growth (tiny 100 and 200, small 1,000 and 2,000,
full 2,000 and 10,000), built in memory as connector records (no HTTP), are stored twice each way, each way
into its own empty channel:
- the loop: per order, update_or_create of its customer, the order and each of its 5 lines (what a
  straightforward sync would do); then the same again over the unchanged payloads;
- the ingest: OrderIngest.run, chunks of 500 (one read of the chunk's hashes, then bulk writes); then the
  same again, which must write no row at all (checked: no INSERT/UPDATE/DELETE is sent).
Both resolve the line's mapping and item (the loop from a dict built beforehand, at no query cost).
Targets: loop / ingest >= 15x on the first pass, loop re-run / ingest re-run >= 30x.
"""

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from catalog.models import Item, ItemMapping, MappingStatus
from integrations.connectors.records import Address, CustomerRef, OrderLineRecord, OrderRecord
from integrations.flows import RunReport
from integrations.models import Channel, ChannelKind
from orders.ingest import OrderIngest
from orders.models import Customer, Order, OrderLine
from orders.records import address_dict
from tests.benchmarks.table import BenchRow, measured

ORDERS = {"tiny": (100, 200), "small": (1_000, 2_000), "full": (2_000, 10_000)}
LINES = 5
SKUS = 200
CUSTOMERS = 500
START = datetime(2026, 1, 1, tzinfo=UTC)


def run(size: str) -> list[str | BenchRow]:
    lines: list[str | BenchRow] = []
    with override_settings(DEBUG=False):  # no query log: it would tax the loop's many queries, not the ingest
        for n in ORDERS[size]:
            lines += _run(n)
    return lines


def _run(n: int) -> list[str | BenchRow]:
    records = _records(n)
    loop_channel, ingest_channel = _channel(f"bench-orders-loop-{n}"), _channel(f"bench-orders-ingest-{n}")
    items = _catalog(loop_channel, ingest_channel)

    loop_first = _timed(lambda: _loop(loop_channel, records, items))
    loop_again = _timed(lambda: _loop(loop_channel, records, items))
    with measured() as first:
        _ingest(ingest_channel, records)
    with CaptureQueriesContext(connection) as queries, measured() as again:
        _ingest(ingest_channel, records)
    writes = [q for q in queries if q["sql"].lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert not writes, f"re-ingesting unchanged orders wrote: {writes[0]['sql'][:200]}"
    assert Order.objects.filter(channel=ingest_channel).count() == n
    assert OrderLine.objects.filter(order__channel=ingest_channel).count() == n * LINES
    loop = "update_or_create loop"
    return [
        f"database: {connection.vendor}; {n} orders x {LINES} lines, {SKUS} SKUs, {CUSTOMERS} customers",
        BenchRow("order ingest, first pass", n, first.seconds, "orders", loop, loop_first,
                 queries=first.queries, peak_mb=first.peak_mb, target=15),
        BenchRow("order ingest, unchanged re-run (0 writes)", n, again.seconds, "orders", loop, loop_again,
                 queries=again.queries, peak_mb=again.peak_mb, target=30),
    ]  # fmt: skip


def _records(n: int) -> list[OrderRecord]:
    ship_to = Address(name="Ann Lee", line1="1 Main St", city="Durham", state="NC", postal_code="27701", country="US")
    return [
        OrderRecord(
            external_id=str(100000 + i),
            number=f"B-{100000 + i}",
            status="approved",
            placed_at=START + timedelta(minutes=i),
            updated_at=START + timedelta(minutes=i, seconds=30),
            total=Decimal("125.00"),
            ship_to=ship_to,
            bill_to=ship_to,
            shipping_method="UPS Ground",
            customer=CustomerRef(external_id=f"C{i % CUSTOMERS}", name=f"Customer {i % CUSTOMERS}"),
            lines=tuple(
                OrderLineRecord(
                    external_id=f"{i}-{j}", sku=_sku((i + j) % SKUS), quantity=1 + j, unit_price=Decimal("25.00")
                )
                for j in range(LINES)
            ),
            attributes={"site": "Bench", "tags": ["b2b"]},
            raw={"id": 100000 + i, "lines": LINES},
        )
        for i in range(n)
    ]


def _loop(channel: Channel, records: list[OrderRecord], items: dict[str, tuple[int, int]]) -> None:
    for record in records:
        ref = record.customer
        customer, _ = Customer.objects.update_or_create(
            channel=channel, external_id=ref.external_id, defaults={"name": ref.name, "email": ref.email}
        )
        order, _ = Order.objects.update_or_create(
            channel=channel,
            external_id=record.external_id,
            defaults={
                "number": record.number,
                "channel_status": record.status,
                "placed_at": record.placed_at,
                "channel_updated_at": record.updated_at,
                "customer": customer,
                "ship_to": address_dict(record.ship_to),
                "bill_to": address_dict(record.bill_to),
                "shipping_method": record.shipping_method,
                "attributes": record.attributes,
                "currency": record.currency,
                "total": record.total,
                "raw": record.raw,
            },
        )
        for position, line in enumerate(record.lines):
            mapping_id, item_id = items[line.sku]
            OrderLine.objects.update_or_create(
                order=order,
                external_id=line.external_id,
                defaults={
                    "position": position,
                    "channel_sku": line.sku,
                    "mapping_id": mapping_id,
                    "item_id": item_id,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                },
            )


def _ingest(channel: Channel, records: list[OrderRecord]) -> None:
    OrderIngest(channel=channel, report=RunReport(flow="orders.download")).run(records)


def _channel(slug: str) -> Channel:
    return Channel.objects.create(slug=slug, name=slug, kind=ChannelKind.CHANNELADVISOR)


def _catalog(*channels: Channel) -> dict[str, tuple[int, int]]:
    """SKUS items, each mapped on every channel; (mapping id, item id) by SKU on the first channel (the loop's)."""
    items = [Item.objects.get_or_create(sku=sku, defaults={"item_number": sku})[0] for sku in map(_sku, range(SKUS))]
    for channel in channels:
        ItemMapping.objects.bulk_create(
            ItemMapping(channel=channel, channel_sku=item.sku, item=item, status=MappingStatus.MAPPED) for item in items
        )
    mappings = ItemMapping.objects.filter(channel=channels[0], channel_sku__in=[item.sku for item in items])
    return {sku: (pk, item_id) for pk, sku, item_id in mappings.values_list("pk", "channel_sku", "item_id")}


def _sku(n: int) -> str:
    return f"BENCH-{n:04d}"


def _timed(func) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started
