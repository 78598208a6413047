"""Inventory fixtures on the sandboxes: the world's items in the catalog, stock downloaded from the OMS
sandbox, and sales channels with their warehouses downloaded and their listings mapped."""

import pytest

from catalog.models import BundleComponent, Item, ItemMapping, MappingStatus
from integrations.connectors.nuorder.parse import channel_sku
from integrations.models import SyncRun
from integrations.runner import flow_run
from inventory.models import ChannelWarehouse, InventoryPolicy, Warehouse, WarehousePairing


def run(channel, flow, **kwargs) -> SyncRun:
    """Run a flow through the runner, as the scheduler does, and insist that it did not fail."""
    result = flow_run(channel=channel, flow=flow, trigger=SyncRun.Trigger.MANUAL, **kwargs)
    assert result.status in (SyncRun.Status.OK, SyncRun.Status.PARTIAL), result.error
    return result


@pytest.fixture
def catalog(sandbox, db) -> dict[str, Item]:
    """The sandbox world's items and bundles as catalog rows (what catalog.download brings)."""
    items = {
        w.sku: Item.objects.create(
            sku=w.sku, item_number=w.item_number, color_code=w.color_code, prepack_run=w.prepack_run, size=w.size,
            upc=w.upc, description=w.description, active=w.active,
        )
        for w in sandbox.world.items
    }  # fmt: skip
    for w in sandbox.world.items:
        for component, quantity in w.components:
            BundleComponent.objects.create(bundle=items[w.sku], component=items[component], quantity=quantity)
    return items


@pytest.fixture
def oms(sandbox_channel, catalog):
    """The fulfillment channel, with its stock and supply downloaded."""
    channel = sandbox_channel("oms")
    run(channel, "inventory.download")
    return channel


@pytest.fixture
def sales(sandbox, sandbox_channel, oms, catalog):
    """`sales(kind, push_mode=..., **policy)`: a sales channel with its warehouses downloaded (paired by code or
    name) and every listing of the world that names an item mapped to it, as catalog.download would leave it."""

    def make(kind: str, settings: dict | None = None, **policy):
        channel = sandbox_channel(kind, fulfillment=oms, settings=settings or {})
        run(channel, "warehouses.download")
        InventoryPolicy.objects.create(channel=channel, **policy)
        if kind == "nuorder":
            _pair_nuorder(channel)
            _map_nuorder(sandbox.api(kind), channel, catalog)
        else:
            for listing in sandbox.world.listings:
                if listing.item_sku:
                    ItemMapping.objects.create(
                        channel=channel, channel_sku=listing.sku, channel_product_id=str(listing.product_id),
                        item=catalog[listing.item_sku], status=MappingStatus.MAPPED, method="sku_pattern",
                    )  # fmt: skip
        return channel

    return make


def _pair_nuorder(channel) -> None:
    """NuORDER's warehouses come by name from the channel's settings (no code to pair by): paired by hand, as a
    person does on the pairing screen; the sandbox's `default` mirrors MAIN and `east` EAST."""
    for external_id, code in (("default", "MAIN"), ("east", "EAST")):
        WarehousePairing.objects.get_or_create(
            channel_warehouse=ChannelWarehouse.objects.get(channel=channel, external_id=external_id),
            warehouse=Warehouse.objects.get(code=code),
        )


def _map_nuorder(api, channel, catalog) -> None:
    """NuORDER lists one product per style and colour; each size is a listing, keyed by its UPC."""
    by_upc = {item.upc: item for item in catalog.values()}
    for product in api.products.values():
        for size in product["sizes"]:
            item = by_upc.get(size["upc"])
            if item is not None:
                sku = channel_sku(product["style_number"], product.get("color", ""), size["size"], size["upc"])
                ItemMapping.objects.create(
                    channel=channel, channel_sku=sku, channel_product_id=product["_id"], channel_upc=size["upc"],
                    item=item, status=MappingStatus.MAPPED, method="upc",
                )  # fmt: skip
