"""NuORDER orders shaped like the real recorded ones, through the hub: unambiguous listing keys (the UPC, else the
size's style|colour|size), line fields kept and passed on, warehouses created as orders name them."""

import copy
import json
from pathlib import Path

from catalog.models import Item, ItemMapping, MappingMethod, MappingStatus
from integrations.connectors.nuorder.parse import channel_sku
from inventory.models import ChannelWarehouse
from orders.models import Order, OrderLine

RECORDED = json.loads((Path(__file__).parents[1] / "data" / "nuorder" / "orders_recorded.json").read_text())


def _recorded(number: str) -> dict:
    return copy.deepcopy(next(o for o in RECORDED if o["order_number"] == number))


def _colliding_order() -> dict:
    """Two products without UPCs whose dash-joined SKUs were the same (`AB-1-RED-S`)."""
    order = _recorded("100589-1")
    order.update(_id="64a1000000000000000001c1", order_number="7701")
    order["line_items"] = [
        {"product": {"_id": "64a10000000000000000c0a1", "style_number": "AB-1", "color": "RED"},
         "sizes": [{"size": "S", "quantity": 2, "price": 10}]},
        {"product": {"_id": "64a10000000000000000c0a2", "style_number": "AB", "color": "1-RED"},
         "sizes": [{"size": "S", "quantity": 3, "price": 10}]},
    ]  # fmt: skip
    return order


def test_two_products_that_made_the_same_sku_are_two_listings_each_mapped_to_its_own_item(sandbox, sales, run):
    first = Item.objects.create(sku="AB1-RED-S", item_number="AB-1", color_code="RED", size="S")
    second = Item.objects.create(sku="AB-1RED-S", item_number="AB", color_code="1-RED", size="S")
    assert "-".join(("AB-1", "RED", "S")) == "-".join(("AB", "1-RED", "S"))  # what the old key made of both
    channel = sales("nuorder", settings={"order_statuses": ["approved"]})
    sandbox.api("nuorder").add_recorded_order(_colliding_order())
    assert run(channel, "orders.download").status == "ok"
    listings = {m.channel_sku: m for m in ItemMapping.objects.filter(channel=channel, channel_sku__contains="|")}
    assert {sku: (m.item, m.status, m.method) for sku, m in listings.items()} == {
        "AB-1|RED|S": (first, MappingStatus.MAPPED, MappingMethod.SKU_PATTERN),
        "AB|1-RED|S": (second, MappingStatus.MAPPED, MappingMethod.SKU_PATTERN),
    }
    assert listings["AB|1-RED|S"].data["variant"] == {"style": "AB", "color": "1-RED", "size": "S"}
    assert "field by field" in listings["AB|1-RED|S"].note
    lines = OrderLine.objects.filter(order__number="7701").order_by("position")
    assert [(line.channel_sku, line.item, line.quantity) for line in lines] == [
        ("AB-1|RED|S", first, 2),
        ("AB|1-RED|S", second, 3),
    ]


def test_a_size_with_a_upc_is_keyed_by_it_and_one_without_by_its_escaped_parts(sandbox, sales, run):
    item = Item.objects.create(sku="TOWEL-30", item_number="4156301-4", color_code="TURQUOISE, RED", size="30x60")
    channel = sales("nuorder", settings={"order_statuses": ["approved"]})
    sandbox.api("nuorder").add_recorded_order(_recorded("100589-1"))
    run(channel, "orders.download")
    lines = OrderLine.objects.filter(order__number="100589-1").order_by("position")
    assert [line.channel_sku for line in lines] == ["840012345671", "4156301-4|TURQUOISE, RED|30x60"]
    assert lines[1].item == item  # no UPC: auto-mapped by its style, colour and size
    assert channel_sku("a|b", "c\\d", "e") == "a\\|b|c\\\\d|e"  # a separator inside a part is escaped


def test_recorded_orders_keep_line_fields_split_numbers_and_create_the_warehouses_they_name(sandbox, sales, run):
    channel = sales("nuorder", settings={"order_statuses": ["approved"]})
    api = sandbox.api("nuorder")
    for order in RECORDED:
        api.add_recorded_order(order)
    assert run(channel, "orders.download").status in ("ok", "partial")
    first, second = (Order.objects.get(channel=channel, number=n) for n in ("100589-1", "100589-2"))
    assert first.ship_to["country"] == "US" and second.ship_to["line1"] == ""  # the half with no shipping address
    line = first.lines.order_by("position").first()
    assert line.attributes == {
        "warehouse": "LA-DC",
        "prebook": False,
        "ship_start": "2023-08-01T00:00:00.000Z",
        "ship_end": "2023-08-15T00:00:00.000Z",
        "discount": 10,
        "original_price": 20,
    }
    assert second.lines.get().attributes["prebook"] is True
    names = set(ChannelWarehouse.objects.filter(channel=channel).values_list("external_id", flat=True))
    assert {"LA-DC", "default"} <= names  # LA-DC is in no setting: the order named it


def test_the_ship_window_and_warehouse_of_each_line_go_to_the_fulfillment_system(sandbox, submitted):
    channel = submitted("nuorder")
    order = Order.objects.filter(channel=channel).exclude(fulfillment_number="").first()
    sent = sandbox.api("oms").orders[order.fulfillment_number]
    raw_items = {item["product"]["_id"]: item for item in order.raw["line_items"]}
    for line in order.lines.filter(is_bundle=False, quantity__gt=0, item__isnull=False):
        item = raw_items[line.external_id.split(":")[0]]
        expected = {"warehouse": item["warehouse"], "ship_start": item["ship_start"], "ship_end": item["ship_end"]}
        assert sent["attributes"]["lines"][line.external_id] == expected


def test_a_listing_under_a_former_key_takes_the_new_one_and_keeps_the_mapping_a_person_made(sandbox, sales, run):
    big = Item.objects.create(sku="TOWEL-20", item_number="T", color_code="TR", size="20")
    small = Item.objects.create(sku="TOWEL-30", item_number="T", color_code="TR", size="30")
    channel = sales("nuorder", settings={"order_statuses": ["approved"]})
    product = "64a1000000000000000078d1"

    def listing(sku, item, product_id=product):
        return ItemMapping.objects.create(
            channel=channel, channel_sku=sku, channel_product_id=product_id, item=item,
            status=MappingStatus.MAPPED, method=MappingMethod.MANUAL,
        )  # fmt: skip

    gained_upc = listing("4156301-4|TURQUOISE, RED|20x20 Set 4", big)  # made before the size had its UPC
    old_key = listing("4156301-4-TURQUOISE, RED-30x60", small, product_id="")  # the migration could not convert
    sandbox.api("nuorder").add_recorded_order(_recorded("100589-1"))
    run(channel, "orders.download")
    gained_upc.refresh_from_db()
    old_key.refresh_from_db()
    assert (gained_upc.channel_sku, gained_upc.channel_upc, gained_upc.item, gained_upc.method) == (
        "840012345671", "840012345671", big, MappingMethod.MANUAL,
    )  # fmt: skip
    assert (old_key.channel_sku, old_key.item, old_key.method) == (
        "4156301-4|TURQUOISE, RED|30x60", small, MappingMethod.MANUAL,
    )  # fmt: skip
    assert old_key.data["variant"] == {"style": "4156301-4", "color": "TURQUOISE, RED", "size": "30x60"}
    lines = OrderLine.objects.filter(order__number="100589-1").order_by("position")
    assert [(line.mapping_id, line.item) for line in lines] == [(gained_upc.pk, big), (old_key.pk, small)]


def test_a_former_key_of_another_product_is_not_taken(sandbox, sales, run):
    other = Item.objects.create(sku="OTHER", item_number="O")
    channel = sales("nuorder", settings={"order_statuses": ["approved"]})
    theirs = ItemMapping.objects.create(
        channel=channel, channel_sku="4156301-4-TURQUOISE, RED-30x60", channel_product_id="another-product",
        item=other, status=MappingStatus.MAPPED, method=MappingMethod.MANUAL,
    )  # fmt: skip
    sandbox.api("nuorder").add_recorded_order(_recorded("100589-1"))
    run(channel, "orders.download")
    theirs.refresh_from_db()
    assert theirs.channel_sku == "4156301-4-TURQUOISE, RED-30x60"
    assert ItemMapping.objects.filter(channel=channel, channel_sku="4156301-4|TURQUOISE, RED|30x60").exists()
