"""catalog 0005: NuORDER listings and their order lines move from `style-colour-size` to the unambiguous keys, and
the mappings people made survive. Run with the real migration executor: back to 0004, rows in the old shape,
forward again."""

import json
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from catalog.models import Item, ItemMapping, MappingMethod, MappingStatus
from integrations.models import Channel
from orders.models import Order, OrderLine

BEFORE, AFTER = ("catalog", "0004_mapping_import_jobs"), ("catalog", "0005_nuorder_listing_keys")
RECORDED = json.loads((Path(__file__).parents[1] / "data" / "nuorder" / "orders_recorded.json").read_text())


def _migrate(target) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


def _collision_order() -> dict:
    """Two products behind one old key (`AB-1-RED-S`); the listing was made for the first (its product id)."""
    return {
        "_id": "c0", "order_number": "C-1", "status": "approved",
        "line_items": [
            {"product": {"_id": "p1", "style_number": "AB-1", "color": "RED"}, "sizes": [{"size": "S", "quantity": 1}]},
            {"product": {"_id": "p2", "style_number": "AB", "color": "1-RED"}, "sizes": [{"size": "S", "quantity": 2}]},
        ],
    }  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_nuorder_listings_and_lines_take_the_new_keys_and_keep_their_mappings():
    _migrate(BEFORE)
    try:
        nuorder = Channel.objects.create(name="NuORDER", slug="nu", kind="nuorder")
        other = Channel.objects.create(name="CA", slug="ca", kind="channeladvisor")
        towel = Item.objects.create(sku="TOWEL-30", item_number="4156301-4", color_code="TR", size="30x60")
        ab = Item.objects.create(sku="AB1", item_number="AB-1")

        def listing(channel, sku, **fields):
            return ItemMapping.objects.create(channel=channel, channel_sku=sku, **fields)

        manual = listing(  # a person mapped the UPC-less towel size by hand
            nuorder, "4156301-4-TURQUOISE, RED-30x60", channel_product_id="64a1000000000000000078d1",
            item=towel, status=MappingStatus.MAPPED, method=MappingMethod.MANUAL,
        )  # fmt: skip
        with_upc = listing(nuorder, "4156301-4-TURQUOISE, RED-20x20 Set 4", channel_upc="840012345671")
        collided = listing(
            nuorder, "AB-1-RED-S", channel_product_id="p1", item=ab, status=MappingStatus.MAPPED, method="manual"
        )
        unknown = listing(nuorder, "ZZ-9-X", title="never on an order, no UPC")
        only_upc = listing(nuorder, "QQ-1-M", channel_upc="000000000099")
        ca = listing(other, "4156301-4-TURQUOISE, RED-30x60")
        lines = {}
        for n, raw in enumerate([RECORDED[0], _collision_order()]):
            order = Order.objects.create(
                channel=nuorder, external_id=raw["_id"], number=raw["order_number"], raw=raw, placed_at=timezone.now()
            )
            for item in raw["line_items"]:
                product = item["product"]
                for size in item["sizes"]:
                    old = "-".join(p for p in (product["style_number"], product.get("color"), size["size"]) if p)
                    external_id = f"{product['_id']}:{size['size']}"
                    mapping = ItemMapping.objects.filter(channel=nuorder, channel_sku=old).first()
                    lines[external_id] = OrderLine.objects.create(
                        order=order, external_id=external_id, channel_sku=old, mapping=mapping, quantity=1, position=n
                    )
    finally:
        _migrate(AFTER)

    def reread(mapping):
        return ItemMapping.objects.get(pk=mapping.pk)

    manual = reread(manual)
    assert manual.channel_sku == "4156301-4|TURQUOISE, RED|30x60"
    assert (manual.item_id, manual.method, manual.status) == (towel.pk, "manual", MappingStatus.MAPPED)
    assert manual.data["variant"] == {"style": "4156301-4", "color": "TURQUOISE, RED", "size": "30x60"}
    assert reread(with_upc).channel_sku == "840012345671"
    assert reread(collided).channel_sku == "AB-1|RED|S"  # the product it was made for; p2 gets its own next time
    assert reread(collided).item_id == ab.pk
    assert reread(unknown).channel_sku == "ZZ-9-X"  # cannot be split safely: left as it was
    assert reread(only_upc).channel_sku == "000000000099"
    assert reread(ca).channel_sku == "4156301-4-TURQUOISE, RED-30x60"  # other channels are not touched
    stored = {line.external_id: line.channel_sku for line in OrderLine.objects.all()}
    assert stored == {
        "64a1000000000000000078d1:20x20 Set 4": "840012345671",
        "64a1000000000000000078d1:30x60": "4156301-4|TURQUOISE, RED|30x60",
        "p1:S": "AB-1|RED|S",
        "p2:S": "AB|1-RED|S",
    }
    assert OrderLine.objects.get(external_id="64a1000000000000000078d1:30x60").mapping_id == manual.pk
