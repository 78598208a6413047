"""A day of ChannelAdvisor against the sandboxes over HTTP, flow by flow as the schedules run them: a few hundred
orders downloaded, submitted and acknowledged; the warehouse shipping them in whole, in part and in parcels (some
without tracking) from two warehouses; stock moving over every listing at three distribution centers. Then quiet
cycles. Counted in the sandbox's journal: no write reaches ChannelAdvisor twice with the same path and body, each
order is exported once, each shipment is one Ship, and a quiet cycle writes nothing."""

import json
import random
from collections import Counter

import pytest
from django.utils import timezone

from integrations import flows
from integrations.connectors import connector_class
from integrations.models import Channel, SyncRun
from integrations.runner import flow_run
from integrations.sandbox.registry import Sandboxes
from integrations.sandbox.seed import build_world
from orders.models import Order, ShipmentUpload, UploadState

# The order the schedules run them in (each after what it needs).
CYCLE = (
    "warehouses.download",
    "catalog.download",
    "orders.download",
    "orders.submit",
    "orders.acknowledge",
    "shipments.download",
    "shipments.upload",
    "inventory.download",
    "inventory.upload",
    "inventory.reconcile",
)
ROUNDS = 4


@pytest.fixture(scope="module")
def day():
    sandboxes = Sandboxes.start(world=build_world(styles=24, orders=200), kinds=("oms", "channeladvisor"))
    yield sandboxes
    sandboxes.stop()


def cycle(channels: list[Channel]) -> list[SyncRun]:
    runs = []
    for flow in CYCLE:
        for channel in channels:
            if flow in flows.supported(connector_class(channel.kind), channel.role):
                runs.append(flow_run(channel=channel, flow=flow, trigger=SyncRun.Trigger.SCHEDULE))
    return runs


def warehouse(oms, rng: random.Random) -> None:
    """Ship about half the open orders: whole, one unit of one line, or a parcel per unit (tracked or not)."""
    oms.clock = max(oms.clock, timezone.now())
    for number in sorted(n for n, o in oms.orders.items() if o["status"] in ("open", "partially_shipped")):
        if rng.random() < 0.5:
            continue
        left = {
            line["line_ref"]: line["quantity"] - line["shipped_quantity"]
            for line in oms.orders[number]["lines"]
            if line["quantity"] > line["shipped_quantity"]
        }
        how, where = rng.choice(("whole", "part", "parcels", "untracked")), rng.choice(("MAIN", "EAST"))
        if how == "whole":
            oms.ship(number, warehouse=where)
        elif how == "part":
            oms.ship(number, {next(iter(left)): 1}, warehouse=where)
        else:
            tracking = "" if how == "untracked" else None
            for ref, quantity in left.items():
                for _ in range(quantity):
                    oms.ship(number, {ref: 1}, tracking=tracking, warehouse=where)


def writes(api) -> int:
    return sum(1 for r in api.journal if r.applied and r.method != "GET" and r.path != "/oauth2/token")


@pytest.mark.django_db
def test_a_day_of_channeladvisor_sends_every_write_once(day, settings):
    settings.HTTP_RETRY_BACKOFF = 0.01
    day.reset()
    rng = random.Random(17)
    oms_channel = Channel.objects.create(**day.channel_values("oms"))
    ca_channel = Channel.objects.create(**{**day.channel_values("channeladvisor"), "fulfillment": oms_channel})
    channels = [oms_channel, ca_channel]
    for channel in channels:
        for flow in flows.supported(connector_class(channel.kind), channel.role):
            channel.set_flow(flow, enabled=True)
        channel.save()
    ca, oms = day.api("channeladvisor"), day.api("oms")
    skus = [listing.sku for listing in day.world.listings if listing.item_sku]

    runs: list[SyncRun] = []
    for _ in range(ROUNDS):
        runs += cycle(channels)
        assert not [r for r in runs if r.status == SyncRun.Status.FAILED], [r.error for r in runs]
        warehouse(oms, rng)
        for _ in range(30):  # new orders on the channel
            ca.add_order([(sku, rng.randint(1, 3)) for sku in rng.sample(skus, 2)])
        for sku, code in rng.sample(sorted(oms.stock), 60):  # stock moves
            oms.set_stock(sku, code, on_hand=rng.randint(0, 50))
    runs += cycle(channels)  # what the last round left to do
    quiet = writes(ca)
    runs += cycle(channels) + cycle(channels)

    assert writes(ca) == quiet, "a quiet cycle wrote to ChannelAdvisor"
    assert ca.repeated_writes() == {}
    exports = Counter(r.path for r in ca.journal if r.applied and r.path.endswith("/Export"))
    acknowledged = Order.objects.filter(channel=ca_channel, acknowledged_at__isnull=False).count()
    assert acknowledged > 300 and len(exports) == acknowledged and set(exports.values()) == {1}
    ships = [json.loads(r.body)["Value"] for r in ca.journal if r.applied and r.path.endswith("/Ship")]
    # Every outbox row went; those that shipped only part of a bundle had nothing the channel takes (no call).
    assert not ShipmentUpload.objects.filter(channel=ca_channel).exclude(state=UploadState.SENT).exists()
    assert len(ships) == sum(r.created for r in runs if r.flow == "shipments.upload") > 500
    assert len({s["SellerFulfillmentID"] for s in ships}) == len(ships)  # each shipment once, parcels included
    assert sum(1 for s in ships if not s["TrackingNumber"]) > 20
    # Per product and DC, an absolute quantity is never set again to what it already was.
    held: dict[tuple[str, int], int] = {}
    for r in ca.journal:
        if r.applied and r.path.endswith("/UpdateQuantity"):
            for row in json.loads(r.body)["Value"]["Updates"]:
                key = (r.path, row["DistributionCenterID"])
                assert held.get(key) != row["Quantity"], f"{key} set to {row['Quantity']} twice"
                held[key] = row["Quantity"]
