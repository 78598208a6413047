"""catalog.download's counts add up (seen = created + updated + skipped + failed): a listing stored but in
conflict, or whose product id look-up failed, counts once, as failed."""

from datetime import UTC, datetime

import pytest

from catalog.models import ItemMapping
from catalog.sync_common import FLOW
from integrations.models import SyncRun
from integrations.runner import flow_run
from integrations.sandbox.channeladvisor.odata import format_date

pytestmark = pytest.mark.django_db


def download(channel, **kwargs) -> SyncRun:
    return flow_run(channel=channel, flow=FLOW, trigger=SyncRun.Trigger.MANUAL, **kwargs)


def adds_up(run) -> bool:
    return run.seen == run.created + run.updated + run.skipped + run.failed + run.unknown


@pytest.fixture
def ca(sandbox_channel, catalog):
    return sandbox_channel("channeladvisor", settings={"page_size": 100})


def test_a_first_download_with_a_conflict_adds_up(ca):
    run = download(ca)
    assert run.status == "partial" and run.failed == 1  # the ambiguous listing: stored, but in conflict
    assert run.created == run.seen - 1
    assert adds_up(run)


def test_failed_product_id_lookups_count_each_listing_once(ca, sandbox):
    download(ca)
    ItemMapping.objects.filter(channel=ca).update(channel_product_id="0")  # every id now differs: looked up
    sandbox.api("channeladvisor").inject("status", after=1, times=10_000, status=503, path="/v1/Products")
    run = download(ca, since=datetime(2000, 1, 1, tzinfo=UTC))
    listings = ItemMapping.objects.filter(channel=ca).count()
    assert run.status == "partial"
    assert run.failed == listings  # each listing's look-up failed: one issue, one count
    assert (run.updated, run.skipped) == (0, 0)
    assert adds_up(run)
    assert ca.issues.filter(status="open").count() == listings


def test_conflicts_found_by_the_auto_mapping_pass_move_from_updated_to_failed(ca, sandbox):
    download(ca)
    api = sandbox.api("channeladvisor")
    target = sandbox.world.item("GM501")
    mapped = [lst for lst in sandbox.world.listings if lst.expect == "sku_pattern"][:5]
    for listing in mapped:  # each now carries another item's UPC: a conflict once auto-mapped again
        with api.lock:
            api.products[listing.product_id].update(UPC=target.upc, UpdateDateUtc=format_date(api.advance(1)))
    run = download(ca)
    assert run.failed >= len(mapped)
    assert adds_up(run)


# catalog.download on the fulfillment system: items


@pytest.fixture
def oms(sandbox_channel):
    return sandbox_channel("oms")


def test_a_bundle_missing_a_component_counts_once_as_failed(oms, sandbox):
    api = sandbox.api("oms")
    api.advance(3600)
    api.add_item("KIT3", components=[{"sku": "NOWHERE", "quantity": 1}])
    run = download(oms)
    assert run.status == "partial" and run.failed == 1
    assert adds_up(run)


def test_an_item_stored_without_its_clashing_upc_counts_once_as_failed(oms, sandbox):
    api = sandbox.api("oms")
    download(oms)
    first, second = [sku for sku, row in api.items.items() if row["upc"]][:2]
    api.advance(3600)
    api.update_item(second, upc=api.items[first]["upc"], description="Clashing")
    run = download(oms)
    assert (run.failed, run.updated) == (1, 0)
    assert adds_up(run)
