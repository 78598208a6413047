"""A conflicting listing's candidate items are one-click choices on the mapping screen: each a POST that maps the
listing through mapping_choose_item, behind the change permission."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from catalog.candidates import mapping_candidates
from catalog.models import MappingMethod, MappingStatus
from tests.factories import ItemFactory, ItemMappingFactory
from tests.orders.factories import UserFactory

pytestmark = pytest.mark.django_db
MAPPINGS = "/admin/catalog/itemmapping/"


@pytest.fixture
def conflict(channel):
    """1001-RED-X matches three sizes by pattern (<Item Number>-<Color Code>-<Size> has no size here: the
    <Item Number>-<Color Code>-<Prepack Run> pattern), plus an unrelated item and an inactive one."""
    for size in ("S", "M", "L"):
        ItemFactory(sku=f"1001-RED-X-{size}", item_number="1001", color_code="RED", prepack_run="X", size=size)
    ItemFactory(sku="2002-BLU-S", item_number="2002", color_code="BLU", size="S")
    ItemFactory(sku="1001-RED-X-XL", item_number="1001", color_code="RED", prepack_run="X", size="XL", active=False)
    return ItemMappingFactory(channel=channel, channel_sku="1001-RED-X", item=None, status=MappingStatus.CONFLICT)


def choose(client, mapping, sku: str, **data):
    from catalog.models import Item

    item = Item.objects.get(sku=sku)
    return client.post(reverse("admin:catalog_itemmapping_choose", args=[mapping.pk, item.pk]), data)


def test_the_candidates_are_the_active_items_auto_mapping_found(conflict):
    found = mapping_candidates(mappings=[conflict])[conflict.pk]
    assert [item.sku for item in found] == ["1001-RED-X-L", "1001-RED-X-M", "1001-RED-X-S"]


def test_a_candidate_by_upc_is_offered_too(channel):
    item = ItemFactory(sku="GM501", item_number="GM501", upc="012345678905")
    mapping = ItemMappingFactory(channel=channel, channel_sku="X-1", channel_upc="12345678905", item=None,
                                 status=MappingStatus.CONFLICT)  # fmt: skip
    assert mapping_candidates(mappings=[mapping])[mapping.pk] == [item]


def test_a_nuorder_listing_offers_the_items_of_its_style_colour_and_size_field_by_field(channel):
    # Two items whose dashed patterns join alike (`AB-1-RED-S`): the listing's parts name only one of them.
    ItemFactory(sku="AB1-RED-S", item_number="AB-1", color_code="RED", size="S")
    ItemFactory(sku="AB-1RED-S", item_number="AB", color_code="1-RED", size="S")
    variant = {"variant": {"style": "AB", "color": "1-RED", "size": "S"}}
    listing = ItemMappingFactory(
        channel=channel, channel_sku="AB|1-RED|S", data=variant, item=None, status=MappingStatus.CONFLICT
    )
    assert [item.sku for item in mapping_candidates(mappings=[listing])[listing.pk]] == ["AB-1RED-S"]


def test_the_mapping_screen_shows_one_button_per_candidate(admin_client, conflict):
    html = admin_client.get(MAPPINGS).content.decode()
    for sku in ("1001-RED-X-S", "1001-RED-X-M", "1001-RED-X-L"):
        assert f'name="next" value="{MAPPINGS}">{sku}</button>' in html
    assert ">2002-BLU-S</button>" not in html and ">1001-RED-X-XL</button>" not in html


def test_one_click_maps_the_listing_as_a_manual_choice_and_returns_to_the_screen(admin_client, conflict):
    response = choose(admin_client, conflict, "1001-RED-X-M", next=f"{MAPPINGS}?status__exact=conflict")
    assert response.status_code == 302 and response["Location"] == f"{MAPPINGS}?status__exact=conflict"
    conflict.refresh_from_db()
    assert (conflict.item.sku, conflict.status, conflict.method) == (
        "1001-RED-X-M", MappingStatus.MAPPED, MappingMethod.MANUAL,
    )  # fmt: skip


def test_the_listing_page_offers_the_same_choices(admin_client, conflict):
    html = admin_client.get(f"{MAPPINGS}{conflict.pk}/change/").content.decode()
    assert ">1001-RED-X-S</button>" in html


def test_an_inactive_item_is_refused_and_nothing_changes(admin_client, conflict):
    choose(admin_client, conflict, "1001-RED-X-XL")
    conflict.refresh_from_db()
    assert (conflict.item, conflict.status) == (None, MappingStatus.CONFLICT)


def test_an_outside_next_is_not_followed(admin_client, conflict):
    response = choose(admin_client, conflict, "1001-RED-X-S", next="https://evil.example.com/")
    assert response["Location"] == MAPPINGS


def test_without_the_change_permission_no_buttons_and_a_403(client, conflict):
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_itemmapping"))
    client.force_login(user)
    assert "</button>" not in client.get(MAPPINGS).content.decode().split("result_list")[1]
    assert choose(client, conflict, "1001-RED-X-S").status_code == 403
    conflict.refresh_from_db()
    assert conflict.item is None


def test_choosing_takes_only_post(admin_client, conflict):
    url = reverse("admin:catalog_itemmapping_choose", args=[conflict.pk, conflict.pk])
    assert admin_client.get(url).status_code == 405
