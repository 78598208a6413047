"""Two listings that name one ChannelAdvisor product (its SKU changed on the channel: the product keeps its ID,
the hub keeps the old SKU's listing and gains the new one) get one write per change, over HTTP to the sandbox.

Before, each listing's push was its own row, and rows were batched by listing: the product got the same
UpdateQuantity body twice (a batch boundary between the two listings), or one body naming the DC twice."""

import json

import pytest
from django.utils.module_loading import import_string

from catalog.models import ItemMapping, MappingStatus
from integrations.connectors.channeladvisor import ChannelAdvisorConnector
from inventory.models import PushIntent, PushLedger
from tests.inventory.conftest import run


@pytest.fixture
def renamed(sandbox, sales, oms, monkeypatch):
    """A ChannelAdvisor channel whose every listing was pushed; then one product's SKU changes on the channel
    and catalog.download brings the new SKU as a listing of its own, mapped by UPC to the same item."""
    monkeypatch.setattr(ChannelAdvisorConnector, "push_batch_size", 1)  # a batch boundary after every row
    channel = sales("channeladvisor")
    run(channel, "inventory.upload")
    api = sandbox.api("channeladvisor")
    listing = next(w for w in sandbox.world.listings if w.expect == "upc")
    api.products[listing.product_id]["Sku"] = f"R-{listing.sku}"
    run(channel, "catalog.download")
    new = ItemMapping.objects.get(channel=channel, channel_sku=f"R-{listing.sku}")
    old = ItemMapping.objects.get(channel=channel, channel_sku=listing.sku)
    assert (new.status, new.item_id, new.channel_product_id) == (
        MappingStatus.MAPPED,
        old.item_id,
        str(listing.product_id),
    )
    return channel, listing, old, new


def quantity_writes(api, product_id: int) -> list[dict]:
    path = f"/v1/Products({product_id})/UpdateQuantity"
    return [json.loads(r.body)["Value"] for r in api.journal if r.applied and r.path == path]


def test_the_new_listing_is_pushed_once_in_one_write(sandbox, renamed):
    channel, listing, _old, new = renamed
    api = sandbox.api("channeladvisor")
    writes_before = len(quantity_writes(api, listing.product_id))

    result = run(channel, "inventory.upload")

    # The new listing was never pushed: its first push sets every DC it is paired with, in one call (the old
    # listing's unchanged rows are skipped). That quantity is what the product already holds: a first push is
    # always sent, as the hub trusts no figure it did not set (docs/inventory.md).
    writes = quantity_writes(api, listing.product_id)[writes_before:]
    assert len(writes) == 1
    assert sorted(row["DistributionCenterID"] for row in writes[0]["Updates"]) == [11, 12, 13]
    assert result.created == 3
    assert PushLedger.objects.filter(mapping=new).count() == 3


def test_a_change_of_a_product_two_listings_name_is_one_write(sandbox, renamed, oms):
    channel, listing, old, new = renamed
    api = sandbox.api("channeladvisor")
    run(channel, "inventory.upload")  # the new listing's first push
    writes_before = len(quantity_writes(api, listing.product_id))
    first_push = quantity_writes(api, listing.product_id)[-1]
    oms_api = sandbox.api("oms")
    on_hand, _ = sandbox.world.stock[(listing.item_sku, "MAIN")]
    oms_api.set_stock(listing.item_sku, "MAIN", on_hand=on_hand + 11, allocated=0)
    run(oms, "inventory.download")

    result = run(channel, "inventory.upload")

    writes = quantity_writes(api, listing.product_id)[writes_before:]
    assert writes == [{"UpdateType": "Absolute", "Updates": [{"DistributionCenterID": 11, "Quantity": on_hand + 11}]}]
    # The one body sent twice is the new listing's first push, which restated what the product held since the
    # first upload (the product's DCs had not changed): the one repeat docs/inventory.md allows.
    path = f"/v1/Products({listing.product_id})/UpdateQuantity"
    assert api.repeated_writes() == {("POST", path, json.dumps({"Value": first_push}).encode()): 2}
    assert api.quantity(f"R-{listing.sku}", "MAIN") == on_hand + 11
    # Both listings' pushes were accepted by the one write: each has the quantity in its ledger.
    assert result.updated == 2 and result.failed == 0
    main = {
        m: q
        for m, q in PushLedger.objects.filter(channel_warehouse__external_id="11").values_list("mapping", "quantity")
    }
    assert (main[old.pk], main[new.pk]) == (on_hand + 11, on_hand + 11)
    assert not PushIntent.objects.filter(state__in=PushIntent.UNSETTLED).exists()


def test_fanned_out_the_listings_of_one_product_share_a_chunk(sandbox, renamed, oms, settings, queued_tasks):
    channel, listing, old, new = renamed
    api = sandbox.api("channeladvisor")
    run(channel, "inventory.upload")  # the new listing's first push
    oms_api = sandbox.api("oms")
    on_hand, _ = sandbox.world.stock[(listing.item_sku, "EAST")]
    oms_api.set_stock(listing.item_sku, "EAST", on_hand=on_hand + 5, allocated=0)
    run(oms, "inventory.download")
    settings.INVENTORY_FANOUT_LISTINGS = 0
    settings.INVENTORY_CHUNK_LISTINGS = 1  # a chunk per listing, but for the two that name one product
    writes_before = len(quantity_writes(api, listing.product_id))

    run(channel, "inventory.upload")
    tasks = queued_tasks()
    for task in tasks:  # what a django-q2 worker does with each
        import_string(task["func"])(*task["args"])

    chunks = [
        set(PushIntent.objects.filter(pk__in=task["args"][1]).values_list("mapping", flat=True)) for task in tasks
    ]
    assert chunks == [{old.pk, new.pk}]
    writes = quantity_writes(api, listing.product_id)[writes_before:]
    assert writes == [{"UpdateType": "Absolute", "Updates": [{"DistributionCenterID": 12, "Quantity": on_hand + 5}]}]
    assert set(PushIntent.objects.filter(mapping__in=[old, new]).values_list("state", flat=True)) == {"sent"}
