"""inventory.download (stock and supply from the OMS sandbox) and warehouses.download, over HTTP."""

from datetime import date, timedelta

import pytest

from integrations.cursors import cursor_position
from inventory.downloads import STOCK_FLOW
from inventory.models import ChannelWarehouse, IncomingSupply, StockLevel, Warehouse
from tests.inventory.conftest import run

pytestmark = pytest.mark.django_db


def test_stock_and_supply_are_downloaded_with_warehouses_created_by_code(sandbox, oms):
    world = sandbox.world
    assert set(Warehouse.objects.values_list("code", "name")) == set(world.warehouses)
    assert StockLevel.objects.count() == len(world.stock)
    on_hand, allocated = world.stock[("1001-RED-X-S", "EAST")]
    level = StockLevel.objects.get(item__sku="1001-RED-X-S", warehouse__code="EAST")
    assert (level.on_hand, level.allocated, level.available) == (on_hand, allocated, on_hand - allocated)
    assert IncomingSupply.objects.count() == len(world.supply)
    assert cursor_position(channel=oms, flow=STOCK_FLOW)


def test_a_rerun_reads_from_the_cursor_and_writes_only_what_changed(sandbox, oms):
    api = sandbox.api("oms")
    api.advance(3600)
    api.set_stock("1001-RED-X-S", "MAIN", on_hand=77, allocated=7)
    run(oms, "inventory.download")  # the cursor is now at that change
    api.advance(3600)  # beyond the overlap window
    api.set_stock("GM501", "EAST", on_hand=5, allocated=0)
    result = run(oms, "inventory.download")
    assert StockLevel.objects.get(item__sku="1001-RED-X-S", warehouse__code="MAIN").available == 70
    assert StockLevel.objects.get(item__sku="GM501", warehouse__code="EAST").available == 5
    # Since the cursor minus the overlap: the last change again (unchanged, skipped) and the new one. Supply is
    # read whole while the connector gives it no updated_at; it is unchanged, so nothing is written for it.
    assert (result.seen, result.updated, result.skipped) == (2 + len(api.supply), 1, 1 + len(api.supply))


def test_a_closed_purchase_order_line_leaves_incoming_supply(sandbox, oms):
    api = sandbox.api("oms")
    supply_id, row = next(iter(api.supply.items()))
    api.close_supply(supply_id)
    run(oms, "inventory.download")
    assert not IncomingSupply.objects.filter(purchase_order=row["purchase_order"], item__sku=row["sku"]).exists()


def test_new_supply_arrives(sandbox, oms):
    expected = date(2026, 12, 24)
    sandbox.api("oms").add_supply("GM501", "EAST", 33, expected, "PO-NEW")
    run(oms, "inventory.download")
    supply = IncomingSupply.objects.get(purchase_order="PO-NEW")
    assert (supply.item.sku, supply.warehouse.code, supply.quantity, supply.expected_date) == (
        "GM501", "EAST", 33, expected,
    )  # fmt: skip


def test_stock_of_an_item_not_in_the_catalog_is_an_issue_not_a_crash(sandbox, oms):
    sandbox.api("oms").set_stock("UNKNOWN-SKU", "MAIN", on_hand=5)
    result = run(oms, "inventory.download")
    assert result.status == "partial"
    assert oms.issues.get().record_key == "UNKNOWN-SKU@MAIN"


def test_dry_run_download_writes_nothing(sandbox, oms):
    sandbox.api("oms").set_stock("1001-RED-X-S", "MAIN", on_hand=99, allocated=0)
    before = cursor_position(channel=oms, flow=STOCK_FLOW)
    run(oms, "inventory.download", dry_run=True)
    assert StockLevel.objects.get(item__sku="1001-RED-X-S", warehouse__code="MAIN").on_hand != 99
    assert cursor_position(channel=oms, flow=STOCK_FLOW) == before


def test_explicit_since_reads_the_window_asked_for(sandbox, oms):
    result = run(oms, "inventory.download", since=sandbox.api("oms").clock + timedelta(days=1))
    assert result.seen == 0


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("channeladvisor", {"11": "MAIN", "12": "EAST", "13": "FBA"}),  # by code
        ("extensiv", {"101": "MAIN", "102": "EAST", "103": "FBA"}),  # by name: OM warehouses have no code
    ],
)
def test_channel_warehouses_are_downloaded_and_new_ones_paired(sandbox_channel, oms, kind, expected):
    channel = sandbox_channel(kind)
    run(channel, "warehouses.download")
    pairs = {cw.external_id: [w.code for w in cw.warehouses.all()] for cw in channel.channel_warehouses.all()}
    assert pairs == {external_id: [code] for external_id, code in expected.items()}


def test_nuorder_warehouses_come_from_the_settings_without_a_call_and_stay_when_left_out(sandbox_channel, sandbox, oms):
    api = sandbox.api("nuorder")
    channel = sandbox_channel("nuorder", settings={"warehouses": ["default", "east"]})
    ChannelWarehouse.objects.create(channel=channel, external_id="LA-DC", name="LA-DC")  # met on an order
    api.calls.clear()
    run(channel, "warehouses.download")
    assert api.calls == []  # NuORDER documents no warehouse list: nothing is asked
    found = {cw.external_id: (cw.name, cw.active) for cw in channel.channel_warehouses.all()}
    assert found == {"default": ("default", True), "east": ("east", True), "LA-DC": ("LA-DC", True)}


def test_a_warehouse_the_channel_stops_listing_becomes_inactive(sandbox_channel, oms):
    channel = sandbox_channel("channeladvisor")
    ChannelWarehouse.objects.create(channel=channel, external_id="99", name="Gone")
    run(channel, "warehouses.download")
    assert not ChannelWarehouse.objects.get(channel=channel, external_id="99").active
