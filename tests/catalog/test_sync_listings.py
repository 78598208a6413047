"""catalog.download on sales channels: ChannelAdvisor and Extensiv listings over HTTP, auto-mapped on arrival."""

import logging

import pytest

from catalog.listings_download import listings_download
from catalog.models import ItemMapping, MappingMethod, MappingStatus
from catalog.sync import catalog_listings_download
from catalog.sync_common import FLOW, read_since
from integrations.connectors import connector_for
from integrations.cursors import cursor_position
from integrations.flows import RunReport, parse_position
from integrations.http import ServerError
from integrations.models import SyncIssue, SyncRun
from integrations.runner import flow_run
from integrations.sandbox.channeladvisor.odata import format_date, parse_date
from tests.factories import ItemFactory, ItemMappingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ca(sandbox_channel, catalog):
    return sandbox_channel("channeladvisor")


@pytest.fixture
def ca_api(sandbox):
    return sandbox.api("channeladvisor")


def download(channel, **kwargs) -> RunReport:
    report = RunReport(flow=FLOW, dry_run=kwargs.get("dry_run", False))
    catalog_listings_download(channel, report=report, **kwargs)
    return report


def mapping(channel, sku: str) -> ItemMapping:
    return ItemMapping.objects.select_related("item").get(channel=channel, channel_sku=sku)


def touch(api, product_id: int, **fields) -> None:
    """Change a ChannelAdvisor product the way an edit on the channel does: its UpdateDateUtc moves on."""
    with api.lock:
        api.products[product_id].update(fields, UpdateDateUtc=format_date(api.advance(1)))


def test_listings_arrive_with_product_id_upc_title_and_data(ca, sandbox):
    report = download(ca)

    listings = sandbox.world.listings
    conflicts = sum(1 for lst in listings if lst.expect == "conflict")  # stored, but counted failed: one count each
    assert (report.seen, report.created, report.failed) == (len(listings), len(listings) - conflicts, conflicts)
    listing = next(lst for lst in listings if lst.expect == "sku_pattern")
    row = mapping(ca, listing.sku)
    assert (row.channel_product_id, row.channel_upc, row.title) == (str(listing.product_id), listing.upc, listing.title)
    assert row.data["images"] == [f"https://images.example.com/{listing.sku}.jpg"]
    assert row.data["attributes"]["Style"] == sandbox.world.item(listing.item_sku).item_number
    assert row.data["aliases"] == [f"MPN-{listing.sku}"]


def test_listings_are_auto_mapped_by_upc_and_sku_pattern_in_the_same_run(ca, sandbox):
    download(ca)

    methods = set()
    for listing in sandbox.world.listings:
        row = mapping(ca, listing.sku)
        if listing.item_sku:  # UPC first; a listing without one is recognised by its SKU pattern
            method = MappingMethod.UPC if listing.upc else MappingMethod.SKU_PATTERN
            assert (row.status, row.method, row.item.sku) == ("mapped", method, listing.item_sku)
            methods.add(method)
        else:
            assert row.status == listing.expect, listing.sku
    assert methods == {MappingMethod.UPC, MappingMethod.SKU_PATTERN}
    assert not ItemMapping.objects.filter(automap_pending=True).exists()


def test_an_ambiguous_listing_is_a_conflict_and_goes_to_the_issue_queue(ca, sandbox):
    run = flow_run(channel=ca, flow=FLOW, trigger=SyncRun.Trigger.MANUAL)

    ambiguous = next(lst for lst in sandbox.world.listings if lst.expect == "conflict")
    assert run.status == SyncRun.Status.PARTIAL
    assert mapping(ca, ambiguous.sku).status == MappingStatus.CONFLICT
    issue = SyncIssue.objects.get(channel=ca, flow=FLOW, status=SyncIssue.Status.OPEN)
    assert issue.record_key == ambiguous.sku
    assert "matches 3 items by pattern" in issue.message


def test_a_sku_not_unique_on_the_channel_is_a_conflict_and_an_issue(ca, ca_api, sandbox):
    listing = next(lst for lst in sandbox.world.listings if lst.expect == "sku_pattern")
    ca_api.add_product(listing.sku, UPC=listing.upc)  # a second ChannelAdvisor product with the same SKU

    run = flow_run(channel=ca, flow=FLOW, trigger=SyncRun.Trigger.MANUAL)

    row = mapping(ca, listing.sku)
    assert (row.status, row.item, row.channel_product_id) == (MappingStatus.CONFLICT, None, "")
    assert "is not unique on the channel" in row.note
    issue = SyncIssue.objects.get(channel=ca, flow=FLOW, record_key=listing.sku)
    assert str(listing.product_id) in issue.message
    assert run.failed >= 1


def test_a_mapping_a_person_made_keeps_its_item_and_gets_the_listing_data(ca, sandbox):
    listing = next(lst for lst in sandbox.world.listings if lst.expect == "sku_pattern")
    chosen = ItemFactory()
    ItemMappingFactory(
        channel=ca, channel_sku=listing.sku, item=chosen, method=MappingMethod.MANUAL, status=MappingStatus.MAPPED
    )

    report = download(ca)

    row = mapping(ca, listing.sku)
    assert (row.item, row.method, row.status) == (chosen, MappingMethod.MANUAL, MappingStatus.MAPPED)
    assert (row.channel_product_id, row.title) == (str(listing.product_id), listing.title)
    assert row.suggested_item.sku == listing.item_sku  # auto-mapping only suggests
    assert report.updated == 1


def test_a_second_download_with_nothing_changed_writes_nothing(ca):
    download(ca)
    stamps = dict(ItemMapping.objects.values_list("channel_sku", "updated_at"))

    report = download(ca)

    assert (report.created, report.updated, report.skipped) == (0, 0, report.seen)
    assert dict(ItemMapping.objects.values_list("channel_sku", "updated_at")) == stamps


def test_a_changed_listing_is_updated_and_mapped_again(ca, ca_api, sandbox):
    download(ca)
    unknown = next(lst for lst in sandbox.world.listings if lst.expect == "unmapped")
    target = sandbox.world.sellable[5]
    touch(ca_api, unknown.product_id, UPC=target.upc, Title="Now known")

    report = download(ca)

    assert (report.created, report.updated) == (0, 1)
    row = mapping(ca, unknown.sku)
    assert (row.status, row.method, row.item.sku, row.title) == ("mapped", MappingMethod.UPC, target.sku, "Now known")


def test_the_cursor_moves_to_the_newest_listing_after_the_run(ca, ca_api):
    download(ca)

    newest = max(parse_date(p["UpdateDateUtc"]) for p in ca_api.products.values())
    assert parse_position(cursor_position(channel=ca, flow=FLOW)) == newest


def test_listings_a_broken_run_changed_are_auto_mapped_by_the_next(ca, ca_api, sandbox):
    download(ca)
    ca.settings = {**ca.settings, "page_size": 10}
    ca.save()
    mapped = [lst for lst in sandbox.world.listings if lst.expect == "sku_pattern"][:15]
    target = sandbox.world.item("GM501")
    for listing in mapped:  # every one now carries the UPC of another item: a conflict once auto-mapped
        touch(ca_api, listing.product_id, UPC=target.upc)
    connector = connector_for(ca)
    start = read_since(channel=ca, flow=FLOW, since=None)

    def breaking(records):
        for n, record in enumerate(records):
            if n == 5:  # page 1 of the changes is in hand; page 2 will not come
                ca_api.inject("status", times=20, status=503, path="/v1/Products")
            yield record

    with pytest.raises(ServerError):
        listings_download(
            channel=ca,
            records=breaking(connector.listings_download(since=start)),
            lookup=None,
            report=RunReport(flow=FLOW),
            dry_run=False,
            chunk_size=10,
        )
    flagged = ItemMapping.objects.filter(channel=ca, automap_pending=True)
    assert flagged.count() == 10
    assert set(flagged.values_list("status", flat=True)) == {MappingStatus.MAPPED}  # not yet auto-mapped

    ca_api.clear_faults()
    download(ca)

    assert not ItemMapping.objects.filter(automap_pending=True).exists()
    assert {mapping(ca, lst.sku).status for lst in mapped} == {MappingStatus.CONFLICT}


def test_an_issue_a_person_settled_on_the_mapping_screen_is_resolved_by_the_next_run(ca, sandbox):
    flow_run(channel=ca, flow=FLOW, trigger=SyncRun.Trigger.MANUAL)
    ambiguous = next(lst for lst in sandbox.world.listings if lst.expect == "conflict")
    row = mapping(ca, ambiguous.sku)
    row.item, row.method, row.status = ItemFactory(), MappingMethod.MANUAL, MappingStatus.MAPPED
    row.save()

    flow_run(channel=ca, flow=FLOW, trigger=SyncRun.Trigger.MANUAL)

    issue = SyncIssue.objects.get(channel=ca, flow=FLOW, record_key=ambiguous.sku)
    assert issue.status == SyncIssue.Status.RESOLVED


def test_a_non_unique_sku_issue_closes_once_a_person_gives_the_listing_its_product_id(ca, ca_api, sandbox):
    listing = next(lst for lst in sandbox.world.listings if lst.expect == "sku_pattern")
    ca_api.add_product(listing.sku, UPC=listing.upc)
    flow_run(channel=ca, flow=FLOW, trigger=SyncRun.Trigger.MANUAL)
    row = mapping(ca, listing.sku)
    row.item, row.method, row.status = ItemFactory(), MappingMethod.MANUAL, MappingStatus.MAPPED
    row.save()
    flow_run(channel=ca, flow=FLOW, trigger=SyncRun.Trigger.MANUAL)
    issue = SyncIssue.objects.get(channel=ca, flow=FLOW, record_key=listing.sku)
    assert issue.status == SyncIssue.Status.OPEN  # mapped, but still no product id: stock cannot go to it

    row.channel_product_id = str(listing.product_id)
    row.save()
    flow_run(channel=ca, flow=FLOW, trigger=SyncRun.Trigger.MANUAL)

    issue.refresh_from_db()
    assert issue.status == SyncIssue.Status.RESOLVED


def test_dry_run_writes_nothing(ca):
    report = download(ca, dry_run=True)

    assert report.created > 0 and not ItemMapping.objects.filter(channel=ca).exists()
    assert report.lines[0].startswith("create listing ")


@pytest.mark.parametrize("listing_skus", [True, False])
def test_extensiv_listings_by_listing_sku_or_master_sku(sandbox_channel, catalog, sandbox, listing_skus):
    om = sandbox_channel("extensiv", settings={"use_listing_sku": listing_skus})

    download(om)

    by_upc = next(lst for lst in sandbox.world.listings if lst.expect == "upc")
    channel_sku = by_upc.sku if listing_skus else by_upc.item_sku
    row = mapping(om, channel_sku)
    assert (row.status, row.item.sku) == (MappingStatus.MAPPED, by_upc.item_sku)
    assert row.channel_product_id  # OM's product id


def test_extensiv_product_id_missing_is_looked_up_by_sku(sandbox_channel, catalog, sandbox):
    om = sandbox_channel("extensiv", settings={"use_listing_sku": False})
    api = sandbox.api("extensiv")
    listing = next(row for row in api.listings.values() if row["masterSku"])
    with api.lock:
        listing["productId"] = None

    download(om)

    assert mapping(om, listing["masterSku"]).channel_product_id == str(api.products[listing["masterSku"]]["productId"])


def test_credentials_and_tokens_stay_out_of_debug_logs(ca, ca_api, caplog):
    with caplog.at_level(logging.DEBUG):
        download(ca)

    assert caplog.text and ca_api.tokens
    for secret in [*ca.credentials.values(), *ca_api.tokens]:
        assert secret not in caplog.text


# ChannelAdvisor SKUs are case-sensitive (reference 1.9): a listing differing from an item or another listing only
# by case is a listing of its own, a conflict for a person, never mapped to the same item beside the real one.


def test_a_listing_differing_from_an_items_sku_only_by_case_is_a_conflict_beside_the_real_one(ca, ca_api, sandbox):
    real = next(lst for lst in sandbox.world.listings if lst.expect == "sku_pattern" and lst.sku != lst.sku.lower())
    ca_api.add_product(real.sku.lower())

    flow_run(channel=ca, flow=FLOW, trigger=SyncRun.Trigger.MANUAL)

    assert (mapping(ca, real.sku).status, mapping(ca, real.sku).item.sku) == (MappingStatus.MAPPED, real.item_sku)
    twin = mapping(ca, real.sku.lower())
    assert (twin.status, twin.item) == (MappingStatus.CONFLICT, None)
    assert "differs only by case" in twin.note and "case-sensitive" in twin.note
    issue = SyncIssue.objects.get(channel=ca, flow=FLOW, record_key=real.sku.lower())
    assert "differs only by case" in issue.message


def test_two_listings_differing_only_by_case_with_one_upc_are_both_left_to_a_person(ca, ca_api, sandbox):
    real = next(lst for lst in sandbox.world.listings if lst.expect == "upc" and lst.sku != lst.sku.lower())
    flow_run(channel=ca, flow=FLOW, trigger=SyncRun.Trigger.MANUAL)
    assert mapping(ca, real.sku).status == MappingStatus.MAPPED
    ca_api.add_product(real.sku.lower(), UPC=real.upc)  # appears later, with the same UPC

    flow_run(channel=ca, flow=FLOW, trigger=SyncRun.Trigger.MANUAL)

    # Neither SKU is an item's pattern, so which is "the" listing is a person's call; until then neither is
    # offered stock, rather than both offering the same units.
    for sku in (real.sku, real.sku.lower()):
        row = mapping(ca, sku)
        assert (row.status, row.item) == (MappingStatus.CONFLICT, None), sku
        assert "differs only by case from another listing" in row.note
        assert SyncIssue.objects.filter(channel=ca, flow=FLOW, record_key=sku, status="open").exists()
