"""A busy, slightly broken operation for the dashboard's screenshot: four channels, a month of orders and
pushes, two days of runs, and one of each thing a person must handle."""

import random
from datetime import timedelta

from django.utils import timezone

from catalog.models import MappingStatus
from integrations.models import ChannelKind, ChannelRole, SyncRun
from inventory.models import PushIntent
from orders.models import Order, OrderStatus, UploadState
from tests.factories import ChannelFactory, ItemMappingFactory, SyncIssueFactory
from tests.inventory.factories import ChannelWarehouseFactory, DiscrepancyFactory
from tests.orders.factories import OrderFactory, ShipmentUploadFactory

OK, PARTIAL, FAILED = SyncRun.Status.OK, SyncRun.Status.PARTIAL, SyncRun.Status.FAILED
REFUSED = "ChannelAdvisor refused the credentials (400): the refresh token is not valid or was revoked"


def build_world(seed: int = 7) -> dict:
    rng = random.Random(seed)
    now = timezone.now()
    oms = ChannelFactory(name="Warehouse OMS", slug="oms", kind=ChannelKind.OMS, role=ChannelRole.FULFILLMENT)
    ca = ChannelFactory(name="ChannelAdvisor US", slug="ca-us", kind=ChannelKind.CHANNELADVISOR, fulfillment=oms)
    nu = ChannelFactory(name="NuORDER Wholesale", slug="nuorder", kind=ChannelKind.NUORDER, fulfillment=oms)
    ex = ChannelFactory(name="Extensiv Retail", slug="extensiv", kind=ChannelKind.EXTENSIV, fulfillment=oms)
    health = {
        oms: {"orders.submit": OK, "shipments.download": OK, "inventory.download": OK, "catalog.download": OK},
        ca: {"orders.download": FAILED, "orders.acknowledge": FAILED, "shipments.upload": FAILED,
             "inventory.upload": FAILED, "catalog.download": FAILED, "inventory.download": FAILED},
        nu: {"orders.download": OK, "orders.acknowledge": OK, "shipments.upload": OK, "inventory.upload": PARTIAL,
             "catalog.upload": OK},
        ex: {"orders.download": OK, "cancellations.download": OK, "shipments.upload": OK, "inventory.upload": OK,
             "warehouses.download": "stale"},
    }  # fmt: skip
    runs = []
    for channel, flows in health.items():
        for flow, last in {**flows, "integrations.ping": FAILED if channel == ca else OK}.items():
            channel.set_flow(flow, enabled=True, interval=60 if flow != "warehouses.download" else 1440)
            runs += _history(channel, flow, last, now, rng)
        channel.save()
    # started_at is auto_now_add, which bulk_create honours: the history's times are put back afterwards.
    times = [run.started_at for run in runs]
    created = SyncRun.objects.bulk_create(runs)
    for run, started in zip(created, times, strict=True):
        run.started_at = started
    SyncRun.objects.bulk_update(created, ["started_at"], batch_size=500)
    _orders(now, rng, [ca, nu, ex])
    _pushes(now, rng, nu)
    _needs_a_person(ca, nu, ex)
    return {"oms": oms, "channeladvisor": ca, "nuorder": nu, "extensiv": ex}


def _history(channel, flow, last, now, rng) -> list[SyncRun]:
    """A run an hour for two days; a failing flow has failed for its last six hours."""
    runs = []
    for hours_ago in range(48, 0, -1):
        if last == "stale":
            status = OK if hours_ago > 47 else None
        elif last == FAILED and hours_ago <= 6:
            status = FAILED
        else:
            status = PARTIAL if (rng.random() < 0.06 and hours_ago > 1) or (last == PARTIAL and hours_ago == 1) else OK
        if status is None:
            continue
        started = now - timedelta(hours=hours_ago, minutes=rng.randint(0, 20) + 3)
        error = REFUSED if status == FAILED else ""
        runs.append(
            SyncRun(
                channel=channel,
                flow=flow,
                status=status,
                started_at=started,
                error=error,
                finished_at=started + timedelta(seconds=rng.randint(2, 40)),
            )
        )
    if last == "stale":  # three days without a success
        for run in runs:
            run.started_at -= timedelta(days=3)
    return runs


def _orders(now, rng, channels) -> None:
    orders = []
    for day in range(30):
        for k, channel in enumerate(channels):
            for _ in range(max(0, int(rng.gauss(14 - 4 * k + (day % 7 == 2) * 6, 3)))):
                placed = now - timedelta(days=day, minutes=rng.randint(0, 1400))
                orders.append(
                    OrderFactory.build(channel=channel, customer=None, placed_at=placed, status=OrderStatus.SHIPPED)
                )
    Order.objects.bulk_create(orders)


def _pushes(now, rng, channel) -> None:
    warehouse = ChannelWarehouseFactory(channel=channel, name="Main DC")
    listing = ItemMappingFactory(channel=channel, status=MappingStatus.IGNORED)
    intents = [
        PushIntent(
            mapping=listing,
            channel_warehouse=warehouse,
            mode="absolute",
            quantity=1,
            state=PushIntent.State.FAILED if rng.random() < 0.03 else PushIntent.State.SENT,
            created_at=now - timedelta(days=day, minutes=rng.randint(0, 1400)),
        )
        for day in range(30)
        for _ in range(rng.randint(50, 110))
    ]
    PushIntent.objects.bulk_create(intents)
    for n in range(3):
        stuck = ItemMappingFactory(channel=channel, status=MappingStatus.IGNORED, channel_sku=f"STUCK-{n}")
        PushIntent.objects.create(
            mapping=stuck, channel_warehouse=warehouse, mode="absolute", quantity=4, state=PushIntent.State.UNKNOWN
        )


def _needs_a_person(ca, nu, ex) -> None:
    for n in range(7):
        SyncIssueFactory(channel=ca, flow="orders.download", record_key=f"channel:{n}", message=REFUSED)
    SyncIssueFactory(channel=nu, flow="inventory.upload", message="NuORDER answered 503 three times")
    OrderFactory(channel=nu, held=True)
    OrderFactory(channel=ex, held=True)
    OrderFactory(channel=ex, status=OrderStatus.FAILED, last_error="OMS: customer account is on credit hold")
    for n in range(12):
        ItemMappingFactory(channel=ex, status=MappingStatus.UNMAPPED, channel_sku=f"EX-NEW-{n}")
    ItemMappingFactory(channel=nu, status=MappingStatus.CONFLICT, channel_sku="TEE-BLK-M")
    ShipmentUploadFactory(shipment__order__channel=ex, channel=ex, state=UploadState.FAILED)
    for n in range(2):
        DiscrepancyFactory(channel_warehouse__channel=nu, mapping__status=MappingStatus.IGNORED,
                           mapping__channel_sku=f"DIFF-{n}")  # fmt: skip
