"""What the catalog sync shows in the admin: runs in sync runs, a channel's listings that match no item one click
from the mapping screen, and an item's listings per channel."""

import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import MappingStatus
from catalog.sync_common import FLOW
from integrations.models import SyncRun
from integrations.runner import flow_run
from tests.factories import ChannelFactory, ItemFactory, ItemMappingFactory

pytestmark = pytest.mark.django_db
MAPPINGS = "/admin/catalog/itemmapping/"


def unmapped_link(channel) -> str:
    return f"?channel__id__exact={channel.pk}&amp;status__exact=unmapped"


def test_each_channels_listings_that_match_no_item_are_one_click_from_the_mapping_screen(admin_client):
    shop, outlet = ChannelFactory(name="Shop"), ChannelFactory(name="Outlet")
    ItemMappingFactory(channel=shop, channel_sku="SHOP-LOST", status=MappingStatus.UNMAPPED)
    ItemMappingFactory(channel=shop, channel_sku="SHOP-DOUBT", status=MappingStatus.CONFLICT)
    ItemMappingFactory(channel=outlet, channel_sku="OUTLET-LOST", status=MappingStatus.UNMAPPED)

    page = admin_client.get(MAPPINGS).content.decode()

    assert unmapped_link(shop) in page and unmapped_link(outlet) in page
    assert "Shop: listings that match no item" in html.unescape(page)
    listed = admin_client.get(MAPPINGS, {"channel__id__exact": shop.pk, "status__exact": "unmapped"})
    text = listed.content.decode()
    assert "SHOP-LOST" in text and "SHOP-DOUBT" not in text and "OUTLET-LOST" not in text


def test_the_link_costs_no_query(admin_client):
    for n in range(3):
        ItemMappingFactory(channel=ChannelFactory(name=f"C{n}"))
    with CaptureQueriesContext(connection) as context:
        admin_client.get(MAPPINGS)
    assert len(context) == 5  # session, user, channel filter choices, the filtered count, the page


def test_a_catalog_run_shows_in_sync_runs(admin_client, sandbox_channel):
    oms = sandbox_channel("oms")
    run = flow_run(channel=oms, flow=FLOW, trigger=SyncRun.Trigger.MANUAL)

    page = admin_client.get("/admin/integrations/syncrun/", {"flow": FLOW}).content.decode()

    assert run.status == SyncRun.Status.OK
    assert f"/admin/integrations/syncrun/{run.pk}/change/" in page


def test_an_item_shows_its_listings_per_channel(admin_client):
    item = ItemFactory()
    for name in ("Alpha", "Beta"):
        ItemMappingFactory(channel=ChannelFactory(name=name), item=item, status=MappingStatus.MAPPED)

    page = admin_client.get(f"/admin/catalog/item/{item.pk}/change/").content.decode()

    assert page.index("Alpha") < page.index("Beta")
