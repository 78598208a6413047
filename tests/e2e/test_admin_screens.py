"""The screens that change data, driven as a person drives them: a mapping spreadsheet through its preview,
warehouse pairing, a conflicting listing mapped with one click, and deleting then resubmitting orders with a batched one refused on the confirmation."""

import pytest

pytest.importorskip("playwright", reason="playwright is not installed: `pip install -r requirements.lock`")
from django.urls import reverse
from playwright.sync_api import expect

from catalog.models import ItemMapping, MappingMethod, MappingStatus
from integrations.models import SyncRun
from integrations.runner import flow_run
from inventory.models import WarehousePairing
from orders.models import Order, OrderStatus
from tests.factories import ChannelFactory, ItemFactory, ItemMappingFactory
from tests.inventory.factories import ChannelWarehouseFactory, WarehouseFactory

pytestmark = pytest.mark.e2e


def test_import_a_mapping_spreadsheet_through_its_preview(page):
    ChannelFactory(slug="shop", name="Shop")
    item = ItemFactory(sku="ITEM-1")
    page.goto(page.base + reverse("admin:catalog_itemmapping_import"))
    page.select_option("select[name=format]", label="csv")
    sheet = b"channel,channel_sku,item_sku\nshop,L-1,ITEM-1\nshop,L-2,ITEM-1\n"
    page.set_input_files("input[name=import_file]", {"name": "map.csv", "mimeType": "text/csv", "buffer": sheet})
    page.locator("input[type=submit][value=Submit]").click()
    expect(page.locator("#import-summary")).to_contain_text("2 new, 0 updated, 0 unchanged")
    assert not ItemMapping.objects.exists()  # the preview writes nothing
    page.locator("input[type=submit][value*=Confirm]").click()
    expect(page.locator(".messagelist")).to_contain_text("Import finished: 2 new")
    assert set(ItemMapping.objects.values_list("channel_sku", "item", "method")) == {
        ("L-1", item.pk, MappingMethod.IMPORT),
        ("L-2", item.pk, MappingMethod.IMPORT),
    }


def test_pair_warehouses_and_see_the_effect(page):
    channel = ChannelFactory(name="Shop")
    main = WarehouseFactory(code="MAIN")
    WarehouseFactory(code="EAST")
    dc = ChannelWarehouseFactory(channel=channel, external_id="10", name="DC-A")
    page.goto(page.base + reverse("admin:inventory_pairing_index"))
    page.get_by_role("link", name="Shop").click()
    expect(page.locator("#effect")).to_contain_text("No channel warehouse receives quantities yet")
    page.check(f'input[name="cw_{dc.pk}"][value="{main.pk}"]')
    page.locator("input[type=submit][value='Save pairing']").click()
    expect(page.locator("#effect tbody tr", has_text="DC-A")).to_contain_text("MAIN")
    assert list(WarehousePairing.objects.values_list("channel_warehouse", "warehouse")) == [(dc.pk, main.pk)]


def run_action(page, action: str, orders) -> None:
    page.goto(f"{page.base}{reverse('admin:orders_order_changelist')}?channel={orders[0].channel_id}")
    for order in orders:
        page.check(f'input.action-select[value="{order.pk}"]')
    page.select_option("select[name=action]", action)
    page.locator("button[name=index]").click()


def test_delete_refuses_a_batched_order_on_the_confirmation_then_resubmit(page, sales):
    channel = sales("extensiv")
    assert flow_run(channel=channel, flow="orders.download", trigger=SyncRun.Trigger.MANUAL).status == "ok"
    assert flow_run(channel=channel.fulfillment, flow="orders.submit", trigger=SyncRun.Trigger.MANUAL).status == "ok"
    free, batched = Order.objects.filter(channel=channel).order_by("external_id")[:2]
    Order.objects.filter(pk=batched.pk).update(status=OrderStatus.BATCHED)

    run_action(page, "delete_from_fulfillment", [free, batched])
    plan = page.locator("#action-plan")
    expect(plan.locator("tr.refused", has_text=batched.number)).to_contain_text("Locked")
    expect(plan.locator("tr.allowed", has_text=free.number)).to_contain_text("will do")
    assert Order.objects.get(pk=free.pk).status == OrderStatus.SUBMITTED  # nothing done before the confirm
    page.locator("input[type=submit][value^='Yes,']").click()
    expect(page.locator("#content")).to_contain_text("1 of 2 orders done")
    assert Order.objects.get(pk=free.pk).status == OrderStatus.DELETED
    assert Order.objects.get(pk=batched.pk).status == OrderStatus.BATCHED

    run_action(page, "resubmit", [free])
    page.locator("input[type=submit][value^='Yes,']").click()
    expect(page.locator("#content")).to_contain_text("1 of 1 order done")
    resubmitted = Order.objects.get(pk=free.pk)
    assert resubmitted.status == OrderStatus.RESUBMITTED
    assert resubmitted.events.filter(to_status=OrderStatus.RESUBMITTED, user__username="ops").exists()


def test_map_a_conflicting_listing_with_one_click(page):
    channel = ChannelFactory(name="Shop")
    for size in ("S", "M", "L"):
        ItemFactory(sku=f"1001-RED-X-{size}", item_number="1001", color_code="RED", prepack_run="X", size=size)
    listing = ItemMappingFactory(channel=channel, channel_sku="1001-RED-X", item=None, status=MappingStatus.CONFLICT)
    page.goto(page.base + reverse("admin:catalog_itemmapping_changelist"))
    page.get_by_role("button", name="1001-RED-X-M", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("1001-RED-X-M")
    listing.refresh_from_db()
    assert (listing.status, listing.item.sku) == (MappingStatus.MAPPED, "1001-RED-X-M")
