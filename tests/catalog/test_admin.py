import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Item, ItemMapping, MappingMethod, MappingStatus
from tests.factories import BundleComponentFactory, ChannelFactory, ItemFactory, ItemMappingFactory

pytestmark = pytest.mark.django_db

MAPPINGS = "/admin/catalog/itemmapping/"
ITEMS = "/admin/catalog/item/"
IMPORT = "/admin/catalog/itemmapping/import/"
EXPORT = "/admin/catalog/itemmapping/export/"
CSV_FORMAT = "0"  # import_formats / export_formats order: CSV, XLSX


def queries_for(client, url: str, **params) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(context), response


def listings(channel, count: int) -> list[ItemMapping]:
    items = ItemFactory.create_batch(count)
    statuses = [MappingStatus.MAPPED, MappingStatus.UNMAPPED, MappingStatus.CONFLICT, MappingStatus.IGNORED]
    return [
        ItemMappingFactory(
            channel=channel,
            item=item if n % 4 in (0, 3) else None,
            status=statuses[n % 4],
            suggested_item=item if n % 4 == 1 else None,
            note=f"why {n}",
        )
        for n, item in enumerate(items)
    ]


def post_action(client, action: str, mappings) -> object:
    data = {"action": action, ACTION_CHECKBOX_NAME: [m.pk for m in mappings]}
    return client.post(MAPPINGS, data, follow=True)


# -- pages render, with queries that do not grow with rows ------------------------------------------------------


def test_every_catalog_page_renders(admin_client, channel):
    bundle = BundleComponentFactory().bundle
    mapping = ItemMappingFactory(channel=channel, item=bundle, status=MappingStatus.MAPPED)
    for url in [
        ITEMS,
        f"{ITEMS}{bundle.pk}/change/",
        MAPPINGS,
        f"{MAPPINGS}add/",
        f"{MAPPINGS}{mapping.pk}/change/",
        IMPORT,
        EXPORT,
    ]:
        assert admin_client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    "url", [MAPPINGS, f"{MAPPINGS}?status__exact=unmapped&channel__id__exact=1", f"{MAPPINGS}?q=L"]
)
def test_mapping_screen_queries_do_not_grow_with_rows(admin_client, channel, url):
    listings(channel, 3)  # one of each status but ignored: a conflict among them
    one, _ = queries_for(admin_client, url)
    listings(channel, 197)
    many, response = queries_for(admin_client, url)
    # session, user, channel filter choices, the filtered count, the page, and the candidate items of the
    # conflicts on it (none on the unmapped filter)
    assert one == many == (5 if "unmapped" in url else 6)
    assert response.status_code == 200


def test_item_list_queries_do_not_grow_with_rows(admin_client):
    ItemFactory()
    one, _ = queries_for(admin_client, ITEMS)
    ItemFactory.create_batch(199)
    assert queries_for(admin_client, ITEMS)[0] == one


def test_item_page_lists_its_listings_with_bounded_queries(admin_client, channel):
    item = ItemFactory()
    ItemMappingFactory(channel=channel, channel_sku="FIRST", item=item, status=MappingStatus.MAPPED)
    queries_for(admin_client, f"{ITEMS}{item.pk}/change/")  # warm: the first request also caches content types
    one, _ = queries_for(admin_client, f"{ITEMS}{item.pk}/change/")
    for n in range(60):
        other = ChannelFactory(name=f"Z{n:02d}")  # sorts after "Shop": FIRST stays among the listings shown
        ItemMappingFactory(channel=other, channel_sku=f"L-{n}", item=item, status=MappingStatus.MAPPED)
    many, response = queries_for(admin_client, f"{ITEMS}{item.pk}/change/")
    assert many == one
    page = response.content.decode()
    assert "FIRST" in page and "all listings of this item" in page
    assert f"?item__id__exact={item.pk}" in page


def test_import_page_queries_are_fixed(admin_client, django_assert_num_queries):
    with django_assert_num_queries(3):  # session, user, and the user's recent imports
        assert admin_client.get(IMPORT).status_code == 200


# -- the mapping screen -------------------------------------------------------------------------------------------


def test_conflicts_and_unmapped_come_first(admin_client, channel):
    listings(channel, 8)
    response = admin_client.get(MAPPINGS)
    shown = [m.status for m in response.context["cl"].result_list]
    assert shown == ["conflict"] * 2 + ["unmapped"] * 2 + ["mapped"] * 2 + ["ignored"] * 2


def test_screen_shows_item_suggestion_and_reason(admin_client, channel):
    suggested = ItemFactory(sku="SUGGESTED-SKU")
    ItemMappingFactory(channel=channel, suggested_item=suggested, note="Suggested: UPC 1 matches item SUGGESTED-SKU")
    page = admin_client.get(MAPPINGS).content.decode()
    assert "SUGGESTED-SKU" in page and "Suggested: UPC 1 matches" in page


@pytest.mark.parametrize(
    ("query", "found"),
    [("LISTING-A", "LISTING-A"), ("0999", "LISTING-B"), ("ITEM-C", "LISTING-C")],
)
def test_search_by_channel_sku_channel_upc_and_item_sku(admin_client, channel, query, found):
    ItemMappingFactory(channel=channel, channel_sku="LISTING-A")
    ItemMappingFactory(channel=channel, channel_sku="LISTING-B", channel_upc="0999")
    ItemMappingFactory(channel=channel, channel_sku="LISTING-C", item=ItemFactory(sku="ITEM-C"), status="mapped")
    response = admin_client.get(MAPPINGS, {"q": query})
    assert [m.channel_sku for m in response.context["cl"].result_list] == [found]


@pytest.mark.parametrize(
    ("field", "value"), [("channel__id__exact", None), ("status__exact", "ignored"), ("method__exact", "upc")]
)
def test_filters_by_channel_status_and_method(admin_client, channel, field, value):
    other = ChannelFactory()
    ItemMappingFactory(channel=channel, channel_sku="MINE", status=MappingStatus.IGNORED, method=MappingMethod.UPC)
    ItemMappingFactory(channel=other, channel_sku="OTHER")
    response = admin_client.get(MAPPINGS, {field: value or channel.pk})
    assert [m.channel_sku for m in response.context["cl"].result_list] == ["MINE"]


def test_automap_action(admin_client, channel):
    item = ItemFactory(upc="012345678905")
    mapping = ItemMappingFactory(channel=channel, channel_upc="012345678905")
    response = post_action(admin_client, "automap_selected", [mapping])
    mapping.refresh_from_db()
    assert (mapping.item, mapping.method) == (item, MappingMethod.UPC)
    assert "Auto-map: 1 mapped, 0 conflicts, 0 unmapped" in response.content.decode()


def test_ignore_action(admin_client, channel):
    mapping = ItemMappingFactory(channel=channel)
    response = post_action(admin_client, "ignore_selected", [mapping])
    mapping.refresh_from_db()
    assert mapping.status == MappingStatus.IGNORED
    assert "1 listings ignored." in response.content.decode()


def test_unignore_action(admin_client, channel):
    mapping = ItemMappingFactory(channel=channel, status=MappingStatus.IGNORED)
    post_action(admin_client, "unignore_selected", [mapping])
    mapping.refresh_from_db()
    assert mapping.status == MappingStatus.UNMAPPED


def test_accept_suggestion_action(admin_client, channel):
    suggested = ItemFactory()
    mapping = ItemMappingFactory(channel=channel, suggested_item=suggested)
    response = post_action(admin_client, "accept_suggestion", [mapping])
    mapping.refresh_from_db()
    assert (mapping.item, mapping.method, mapping.status) == (suggested, MappingMethod.MANUAL, MappingStatus.MAPPED)
    assert "1 suggestions accepted." in response.content.decode()


def test_choosing_an_item_on_the_form_makes_a_manual_mapping(admin_client, channel):
    item = ItemFactory()
    mapping = ItemMappingFactory(channel=channel, channel_sku="L-1", status=MappingStatus.CONFLICT)
    data = {"channel": channel.pk, "channel_sku": "L-1", "item": item.pk, "channel_product_id": "", "channel_upc": ""}
    response = admin_client.post(f"{MAPPINGS}{mapping.pk}/change/", {**data, "title": ""})
    assert response.status_code == 302
    mapping.refresh_from_db()
    assert (mapping.item, mapping.status, mapping.method) == (item, MappingStatus.MAPPED, MappingMethod.MANUAL)


def test_form_refuses_an_inactive_item(admin_client, channel):
    item = ItemFactory(active=False)
    mapping = ItemMappingFactory(channel=channel, channel_sku="L-1")
    data = {"channel": channel.pk, "channel_sku": "L-1", "item": item.pk, "title": ""}
    response = admin_client.post(f"{MAPPINGS}{mapping.pk}/change/", data)
    assert response.status_code == 200
    assert "This item is inactive" in response.content.decode()


def test_item_autocomplete_for_a_listing_offers_active_items_only(admin_client):
    ItemFactory(sku="AUTO-ACTIVE")
    ItemFactory(sku="AUTO-INACTIVE", active=False)
    params = {"app_label": "catalog", "model_name": "itemmapping", "field_name": "item", "term": "AUTO"}
    results = admin_client.get("/admin/autocomplete/", params).json()["results"]
    assert [r["text"] for r in results] == ["AUTO-ACTIVE"]


def test_item_search_by_sku_upc_and_item_number(admin_client):
    item = ItemFactory(sku="FIND-ME", item_number="9876Z", upc="000111222333")
    ItemFactory()
    for query in ("FIND-ME", "9876Z", "000111222333"):
        response = admin_client.get(ITEMS, {"q": query})
        assert list(response.context["cl"].result_list) == [item], query


def test_items_and_their_bundle_components_are_read_only_with_a_note_on_where_they_come_from(admin_client):
    component = BundleComponentFactory(component=ItemFactory(sku="PART-1"), quantity=3)
    page = admin_client.get(f"{ITEMS}{component.bundle.pk}/change/").content.decode()
    assert "PART-1" in page and "come from the fulfillment system" in page
    assert 'name="_save"' not in page and 'name="components-0-component"' not in page
    assert "come from the fulfillment system" in admin_client.get(ITEMS).content.decode()
    assert admin_client.get(f"{ITEMS}add/").status_code == 403
    response = admin_client.post(f"{ITEMS}{component.bundle.pk}/change/", {"sku": "CHANGED"})
    assert response.status_code == 403 and not Item.objects.filter(sku="CHANGED").exists()


def test_bundle_page_costs_the_same_queries_for_any_number_of_components(admin_client):
    bundle = BundleComponentFactory().bundle
    queries_for(admin_client, f"{ITEMS}{bundle.pk}/change/")  # warm: the first request also caches content types
    one, _ = queries_for(admin_client, f"{ITEMS}{bundle.pk}/change/")
    BundleComponentFactory.create_batch(4, bundle=bundle)
    assert queries_for(admin_client, f"{ITEMS}{bundle.pk}/change/")[0] == one


# -- export (the import: test_import_admin.py) ----------------------------------------------------------------------------------------------


def test_export_csv_neutralises_formulas(admin_client, channel):
    ItemMappingFactory(channel=channel, channel_sku="=cmd()", item=ItemFactory(sku="ITEM-1"), status="mapped")
    response = admin_client.post(EXPORT, {"format": CSV_FORMAT, "resource": "0"})
    assert response.status_code == 200
    assert response.content.decode().splitlines() == [
        "channel,channel_sku,item_sku,item_upc,channel_product_id,channel_upc,ignore",
        "shop,'=cmd(),ITEM-1,,,,no",
    ]


def test_export_respects_the_screen_filters(admin_client, channel):
    ItemMappingFactory(channel=channel, channel_sku="KEEP", status=MappingStatus.IGNORED)
    ItemMappingFactory(channel=channel, channel_sku="DROP")
    response = admin_client.post(f"{EXPORT}?status__exact=ignored", {"format": CSV_FORMAT, "resource": "0"})
    assert response.content.decode().splitlines()[1:] == ["shop,KEEP,,,,,yes"]
