import pytest

from catalog.models import ItemMapping, MappingMethod, MappingStatus
from catalog.services import mapping_accept_suggestion, mapping_choose_item, mapping_ignore, mapping_unignore
from tests.factories import ItemFactory, ItemMappingFactory

pytestmark = pytest.mark.django_db


def statuses() -> dict[str, str]:
    return dict(ItemMapping.objects.values_list("channel_sku", "status"))


def test_ignore_marks_listings_ignored_and_keeps_their_item(channel):
    item = ItemFactory()
    ItemMappingFactory(channel=channel, channel_sku="A", item=item, status=MappingStatus.MAPPED)
    ItemMappingFactory(channel=channel, channel_sku="B")
    assert mapping_ignore(mappings=ItemMapping.objects.filter(channel_sku="A")) == 1
    assert statuses() == {"A": MappingStatus.IGNORED, "B": MappingStatus.UNMAPPED}
    assert ItemMapping.objects.get(channel_sku="A").item == item


def test_unignore_restores_mapped_or_unmapped(channel):
    ItemMappingFactory(channel=channel, channel_sku="A", item=ItemFactory(), status=MappingStatus.IGNORED)
    ItemMappingFactory(channel=channel, channel_sku="B", status=MappingStatus.IGNORED)
    ItemMappingFactory(channel=channel, channel_sku="C", status=MappingStatus.CONFLICT)
    assert mapping_unignore(mappings=ItemMapping.objects.all()) == 2
    assert statuses() == {"A": MappingStatus.MAPPED, "B": MappingStatus.UNMAPPED, "C": MappingStatus.CONFLICT}


def test_accept_suggestion_makes_a_manual_mapping(channel, admin_user):
    suggested = ItemFactory()
    ItemMappingFactory(channel=channel, channel_sku="A", suggested_item=suggested, note="Suggested: UPC 1 matches")
    ItemMappingFactory(channel=channel, channel_sku="B")
    assert mapping_accept_suggestion(mappings=ItemMapping.objects.all(), user=admin_user) == 1
    mapping = ItemMapping.objects.get(channel_sku="A")
    assert (mapping.item, mapping.suggested_item, mapping.status) == (suggested, None, MappingStatus.MAPPED)
    assert mapping.method == MappingMethod.MANUAL
    assert mapping.note == "Accepted by admin. Suggested: UPC 1 matches"


def test_accept_suggestion_skips_an_item_made_inactive_since(channel, admin_user):
    ItemMappingFactory(channel=channel, channel_sku="A", suggested_item=ItemFactory(active=False))
    assert mapping_accept_suggestion(mappings=ItemMapping.objects.all(), user=admin_user) == 0
    assert ItemMapping.objects.get().item is None


def test_accept_suggestion_keeps_an_ignored_listing_ignored(channel, admin_user):
    ItemMappingFactory(channel=channel, channel_sku="A", status=MappingStatus.IGNORED, suggested_item=ItemFactory())
    mapping_accept_suggestion(mappings=ItemMapping.objects.all(), user=admin_user)
    assert statuses() == {"A": MappingStatus.IGNORED}


def test_choose_item_makes_a_manual_mapping(channel, admin_user):
    item = ItemFactory()
    mapping = ItemMappingFactory(channel=channel, status=MappingStatus.CONFLICT, suggested_item=ItemFactory())
    mapping_choose_item(mapping=mapping, item=item, user=admin_user)
    mapping.refresh_from_db()
    assert (mapping.item, mapping.status, mapping.method) == (item, MappingStatus.MAPPED, MappingMethod.MANUAL)
    assert (mapping.suggested_item, mapping.note) == (None, "Chosen by admin")


def test_clearing_the_item_unmaps(channel, admin_user):
    mapping = ItemMappingFactory(channel=channel, item=ItemFactory(), status=MappingStatus.MAPPED)
    mapping_choose_item(mapping=mapping, item=None, user=admin_user)
    mapping.refresh_from_db()
    assert (mapping.item, mapping.status, mapping.method) == (None, MappingStatus.UNMAPPED, "")
