"""Orders test fixtures: the World's catalog in the hub, an OMS channel, and sales channels pointed at the
sandboxes with their listings mapped the way a catalog download and auto-mapping would map them."""

import threading
from collections.abc import Callable

import pytest

from catalog.automap import mapping_automap
from catalog.models import BundleComponent, Item, ItemMapping
from integrations.flows import RunReport
from integrations.models import Channel, SyncIssue, SyncRun
from integrations.runner import flow_run
from orders.models import Order
from tests.threads import in_thread

SALES_KINDS = ["channeladvisor", "nuorder", "extensiv"]


@pytest.fixture
def items(sandbox, db) -> dict[str, Item]:
    """Every item of the sandbox World in the hub's catalog, bundles with their components."""
    world = sandbox.world
    created = Item.objects.bulk_create(
        Item(
            sku=i.sku,
            item_number=i.item_number,
            color_code=i.color_code,
            prepack_run=i.prepack_run,
            size=i.size,
            upc=i.upc,
            description=i.description,
            wholesale_price=i.wholesale_price,
            retail_price=i.retail_price,
            active=i.active,
        )
        for i in world.items
    )
    by_sku = {item.sku: item for item in created}
    BundleComponent.objects.bulk_create(
        BundleComponent(bundle=by_sku[i.sku], component=by_sku[sku], quantity=qty)
        for i in world.items
        for sku, qty in i.components
    )
    return by_sku


@pytest.fixture
def oms(sandbox_channel) -> Channel:
    return sandbox_channel("oms")


@pytest.fixture
def sales(sandbox, sandbox_channel, oms, items) -> Callable[..., Channel]:
    """`sales("extensiv", settings={...})`: a sales channel feeding the sandbox OMS, its listings auto-mapped."""

    def make(kind: str, **overrides) -> Channel:
        channel = sandbox_channel(kind, fulfillment=oms, **overrides)
        ItemMapping.objects.bulk_create(
            ItemMapping(channel=channel, channel_sku=listing.sku, channel_upc=listing.upc, title=listing.title)
            for listing in sandbox.world.listings
        )
        mapping_automap(channel=channel)
        return channel

    return make


@pytest.fixture
def run() -> Callable[..., SyncRun]:
    """`run(channel, "orders.download")`: one real run through the runner (lock, SyncRun, issues)."""

    def call(channel: Channel, flow: str, **kwargs) -> SyncRun:
        return flow_run(channel=channel, flow=flow, trigger=SyncRun.Trigger.MANUAL, **kwargs)

    return call


@pytest.fixture
def submitted(sales, run):
    """`submitted("nuorder")`: a sales channel whose orders are downloaded and submitted to the sandbox OMS."""

    def make(kind: str, **overrides):
        channel = sales(kind, **overrides)
        assert run(channel, "orders.download").status == "ok"
        assert run(channel.fulfillment, "orders.submit").status == "ok"
        return channel

    return make


@pytest.fixture
def report() -> RunReport:
    return RunReport(flow="orders.download")


def open_issues(channel: Channel, flow: str | None = None) -> dict[str, str]:
    issues = SyncIssue.objects.filter(channel=channel, status=SyncIssue.Status.OPEN)
    if flow:
        issues = issues.filter(flow=flow)
    return dict(issues.values_list("record_key", "message"))


def order_shapes(channel: Channel) -> dict[str, tuple[int, ...]]:
    """Every order of the channel with its number of channel lines and of component lines."""
    shapes = {}
    for order in Order.objects.filter(channel=channel).prefetch_related("lines"):
        parents = [line.parent_id for line in order.lines.all()]
        shapes[order.external_id] = (parents.count(None), len(parents) - parents.count(None))
    return shapes


def cancel_on_channel(sandbox, order: Order) -> None:
    """Cancel the order in its channel's sandbox, the way a person would there."""
    kind = order.channel.kind
    api = sandbox.api(kind)
    api.cancel_order(order.external_id if kind == "nuorder" else int(order.external_id))


def flow_in_thread(run: Callable[..., SyncRun], channel: Channel, flow: str) -> tuple[threading.Thread, list]:
    """`run(channel, flow)` started in a thread, on a database connection of its own (a second worker); the
    thread and the list of what it raised, to assert empty once joined."""
    return in_thread(lambda: run(channel, flow))
