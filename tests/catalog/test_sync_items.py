"""catalog.download on the fulfillment system: items and bundles from the OMS sandbox over HTTP."""

from decimal import Decimal

import pytest

from catalog.items_download import items_download
from catalog.models import BundleComponent, Item, ItemMapping, MappingMethod, MappingStatus
from catalog.sync import catalog_items_download
from catalog.sync_common import FLOW
from integrations.connectors import connector_for
from integrations.cursors import cursor_position
from integrations.flows import RunReport, parse_position
from integrations.http import ServerError
from integrations.models import SyncIssue, SyncRun
from integrations.runner import flow_run
from tests.factories import ChannelFactory, ItemMappingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def oms(sandbox_channel):
    return sandbox_channel("oms")


@pytest.fixture
def api(sandbox):
    return sandbox.api("oms")


def download(channel, **kwargs) -> RunReport:
    report = RunReport(flow=FLOW, dry_run=kwargs.get("dry_run", False))
    catalog_items_download(channel, report=report, **kwargs)
    return report


def components(sku: str) -> dict[str, int]:
    rows = BundleComponent.objects.filter(bundle__sku=sku).values_list("component__sku", "quantity")
    return dict(rows)


def test_first_download_creates_every_item_with_bundle_components(oms, api, sandbox):
    report = download(oms)

    world = sandbox.world
    assert (report.seen, report.created, report.updated, report.skipped) == (len(world.items), len(world.items), 0, 0)
    kit = world.item("KIT1")
    assert components("KIT1") == dict(kit.components)
    item = Item.objects.get(sku=world.items[0].sku)
    expected = world.items[0]
    assert (item.item_number, item.color_code, item.prepack_run, item.size, item.upc) == (
        expected.item_number,
        expected.color_code,
        expected.prepack_run,
        expected.size,
        expected.upc,
    )
    assert (item.wholesale_price, item.retail_price, item.active) == (
        expected.wholesale_price,
        expected.retail_price,
        True,
    )
    newest = max(row["updated_at"] for row in api.items.values())
    assert parse_position(cursor_position(channel=oms, flow=FLOW)) == newest


def test_items_inactive_in_the_fulfillment_system_arrive_inactive(oms, api):
    sku = next(iter(api.items))
    api.deactivate_item(sku)

    download(oms)

    assert list(Item.objects.filter(active=False).values_list("sku", flat=True)) == [sku]


def test_second_download_with_nothing_changed_writes_nothing(oms):
    download(oms)
    stamps = dict(Item.objects.values_list("sku", "updated_at"))

    report = download(oms)

    assert report.seen > 0  # the overlap window re-reads the newest items
    assert (report.created, report.updated, report.skipped) == (0, 0, report.seen)
    assert dict(Item.objects.values_list("sku", "updated_at")) == stamps


def test_changed_items_are_updated_and_only_they(oms, api):
    download(oms)
    sku = next(iter(api.items))
    api.advance(3600)
    api.update_item(sku, description="Renamed", wholesale_price="99.5")

    report = download(oms)

    assert (report.created, report.updated) == (0, 1)
    item = Item.objects.get(sku=sku)
    assert (item.description, item.wholesale_price) == ("Renamed", Decimal("99.50"))


def test_an_item_gone_inactive_stays_and_is_marked_inactive(oms, api):
    download(oms)
    sku = next(sku for sku, row in api.items.items() if row["active"] and not row["components"])
    api.advance(3600)
    api.deactivate_item(sku)

    report = download(oms)

    assert report.updated == 1
    assert Item.objects.get(sku=sku).active is False


def test_new_items_are_created_since_the_cursor(oms, api):
    download(oms)
    api.advance(3600)
    api.add_item("2001-RED-X-S", item_number="2001", color_code="RED", prepack_run="X", size="S", upc="777000000001")

    report = download(oms)

    assert (report.created, report.updated, report.skipped) == (1, 0, report.seen - 1)
    assert Item.objects.get(sku="2001-RED-X-S").upc == "777000000001"


def test_bundle_components_are_replaced_by_the_downloaded_ones(oms, api, sandbox):
    download(oms)
    parts = [i.sku for i in sandbox.world.sellable[2:4]]
    api.advance(3600)
    api.update_item("KIT1", components=[{"sku": parts[0], "quantity": 3}, {"sku": parts[1], "quantity": 1}])

    report = download(oms)

    assert report.updated == 1
    assert components("KIT1") == {parts[0]: 3, parts[1]: 1}


def test_a_bundle_whose_component_comes_in_a_later_chunk_gets_it(oms, api):
    # The bundle is stamped before its component, so it reaches the hub in an earlier chunk.
    api.advance(3600)
    api.add_item("KIT2", components=[{"sku": "PART-LATE", "quantity": 2}])
    api.add_item("PART-LATE", item_number="PART-LATE")
    connector = connector_for(oms)
    start = parse_position(api.items["KIT2"]["updated_at"].isoformat())
    report = RunReport(flow=FLOW)

    items_download(
        channel=oms, records=connector.items_download(since=start), report=report, dry_run=False, chunk_size=1
    )

    assert components("KIT2") == {"PART-LATE": 2}
    assert report.issues == []


def test_a_bundle_naming_an_unknown_component_goes_to_the_issue_queue(oms, api):
    api.advance(3600)
    api.add_item("KIT3", components=[{"sku": "NOWHERE", "quantity": 1}])

    run = flow_run(channel=oms, flow=FLOW, trigger=SyncRun.Trigger.MANUAL)

    assert run.status == SyncRun.Status.PARTIAL
    issue = SyncIssue.objects.get(channel=oms, flow=FLOW, record_key="KIT3")
    assert "NOWHERE" in issue.message
    assert Item.objects.filter(sku="KIT3").exists()  # the item itself is in the catalog


def test_a_upc_another_item_holds_is_left_off_and_queued(oms, api):
    download(oms)
    first, second = [sku for sku, row in api.items.items() if row["upc"]][:2]
    api.advance(3600)
    api.update_item(second, upc=api.items[first]["upc"], description="Clashing")

    report = download(oms)

    assert Item.objects.get(sku=second).upc == ""
    assert Item.objects.get(sku=second).description == "Clashing"
    assert [(i.record_key, "already belongs to item " + first in i.message) for i in report.issues] == [(second, True)]


def test_two_items_can_trade_upcs_in_one_download(oms, api):
    download(oms)
    first, second = [sku for sku, row in api.items.items() if row["upc"]][:2]
    upcs = api.items[first]["upc"], api.items[second]["upc"]
    api.advance(3600)
    api.update_item(first, upc=upcs[1])
    api.update_item(second, upc=upcs[0])

    report = download(oms)

    assert report.issues == []
    assert (Item.objects.get(sku=first).upc, Item.objects.get(sku=second).upc) == (upcs[1], upcs[0])


def test_cursor_covers_only_committed_chunks_when_the_download_breaks(oms, api, settings):
    oms.settings = {**oms.settings, "page_size": 10}
    oms.save()
    connector = connector_for(oms)
    ordered = sorted(api.items.values(), key=lambda row: (row["updated_at"], row["sku"]))

    def breaking(records):
        for n, record in enumerate(records):
            if n == 25:  # page 3 is being read; page 4 will never come
                api.inject("status", times=20, status=503, path="/items")
            yield record

    with pytest.raises(ServerError):
        items_download(
            channel=oms,
            records=breaking(connector.items_download(since=None)),
            report=RunReport(flow=FLOW),
            dry_run=False,
            chunk_size=12,
        )

    assert Item.objects.count() == 24  # two whole chunks; the third was cut off by the failed page 4
    assert parse_position(cursor_position(channel=oms, flow=FLOW)) == ordered[23]["updated_at"]
    api.clear_faults()
    report = download(oms)  # resumes from the cursor, minus the overlap
    assert Item.objects.count() == len(api.items)
    assert report.issues == []


def test_dry_run_counts_and_writes_nothing(oms):
    report = download(oms, dry_run=True)

    assert report.created > 0 and Item.objects.count() == 0
    assert cursor_position(channel=oms, flow=FLOW) == ""
    assert report.lines[0].startswith("create item ")


def test_new_items_map_listings_that_were_waiting_for_them(oms, api):
    shop = ChannelFactory()
    waiting = ItemMappingFactory(channel=shop, channel_sku="3001-BLU-X-M", status=MappingStatus.UNMAPPED)
    api.advance(3600)
    api.add_item("3001-BLU-X-M", item_number="3001", color_code="BLU", prepack_run="X", size="M")

    download(oms)

    waiting.refresh_from_db()
    assert (waiting.status, waiting.method, waiting.item.sku) == (
        MappingStatus.MAPPED,
        MappingMethod.SKU_PATTERN,
        "3001-BLU-X-M",
    )
    assert ItemMapping.objects.count() == 1


def test_the_run_is_recorded_as_a_sync_run(oms, sandbox):
    run = flow_run(channel=oms, flow=FLOW, trigger=SyncRun.Trigger.MANUAL)

    assert (run.status, run.flow, run.created) == (SyncRun.Status.OK, FLOW, len(sandbox.world.items))
