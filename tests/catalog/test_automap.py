import pytest

from catalog.automap import ItemIndex, item_sku_keys, mapping_automap
from catalog.models import ItemMapping, MappingMethod, MappingStatus
from tests.factories import ChannelFactory, ItemFactory, ItemMappingFactory

pytestmark = pytest.mark.django_db


def listing(channel, sku: str | None = None, upc: str = "", **fields) -> ItemMapping:
    if sku is not None:
        fields["channel_sku"] = sku
    return ItemMappingFactory(channel=channel, channel_upc=upc, **fields)


def automapped(mapping: ItemMapping) -> ItemMapping:
    mapping_automap(mappings=ItemMapping.objects.filter(pk=mapping.pk))
    mapping.refresh_from_db()
    return mapping


def test_maps_by_upc(channel):
    item = ItemFactory(upc="012345678905")
    mapping = automapped(listing(channel, upc="012345678905"))
    assert (mapping.item, mapping.status, mapping.method) == (item, MappingStatus.MAPPED, MappingMethod.UPC)
    assert mapping.note == f"UPC 012345678905 matches item {item.sku}"


def test_upc_matches_its_ean13_form(channel):
    item = ItemFactory(upc="012345678905")
    assert automapped(listing(channel, upc="0012345678905")).item == item


def test_maps_general_merchandise_sku_to_item_number(channel):
    item = ItemFactory(item_number="0001A", color_code="", prepack_run="", size="", sku="0001A")
    mapping = automapped(listing(channel, sku="0001A"))
    assert (mapping.item, mapping.method) == (item, MappingMethod.SKU_PATTERN)
    assert mapping.note == "SKU pattern <Item Number> matches item 0001A"


def test_maps_item_colour_prepack_size_sku(channel):
    item = ItemFactory(item_number="001A", color_code="RED", prepack_run="X", size="5")
    mapping = automapped(listing(channel, sku="001A-RED-X-5"))
    assert mapping.item == item
    assert mapping.note == f"SKU pattern <Item Number>-<Color Code>-<Prepack Run>-<Size> matches item {item.sku}"


def test_maps_item_colour_size_sku(channel):
    item = ItemFactory(item_number="001A", color_code="BLUE", prepack_run="", size="12A")
    mapping = automapped(listing(channel, sku="001A-BLUE-12A"))
    assert mapping.item == item
    assert "<Item Number>-<Color Code>-<Size>" in mapping.note


def test_maps_item_colour_prepack_sku(channel):
    item = ItemFactory(item_number="001A", color_code="BLUE", prepack_run="12A", size="")
    mapping = automapped(listing(channel, sku="001A-BLUE-12A"))
    assert mapping.item == item
    assert "<Item Number>-<Color Code>-<Prepack Run>" in mapping.note


def test_sku_comparison_ignores_case_and_spaces_where_the_channel_does():
    item = ItemFactory(item_number="001A", color_code="RED", prepack_run="X", size="5")
    assert automapped(listing(ChannelFactory(kind="extensiv"), sku=" 001a-red-x-5 ")).item == item


def test_inactive_items_never_match(channel):
    ItemFactory(item_number="001A", color_code="RED", prepack_run="X", size="5", sku="001A-RED-X-5", active=False)
    mapping = automapped(listing(channel, sku="001A-RED-X-5"))
    assert (mapping.item, mapping.status) == (None, MappingStatus.UNMAPPED)
    assert mapping.note == "Only inactive items match: 001A-RED-X-5"


def test_inactive_item_does_not_make_a_conflict(channel):
    active = ItemFactory(item_number="0001A", color_code="", prepack_run="", size="", sku="0001A")
    ItemFactory(item_number="0001A", color_code="OLD", prepack_run="", size="1", active=False)
    assert automapped(listing(channel, sku="0001A")).item == active


def test_conflict_when_two_items_match_sku_pattern(channel):
    ItemFactory(item_number="001A", color_code="RED", prepack_run="X", size="5", sku="001A-RED-X-5")
    ItemFactory(item_number="001A", color_code="BLUE", prepack_run="X", size="5", sku="001A-BLUE-X-5")
    mapping = automapped(listing(channel, sku="001A"))
    assert (mapping.item, mapping.status, mapping.method) == (None, MappingStatus.CONFLICT, "")
    assert mapping.note == "SKU 001A matches 2 items by pattern: 001A-BLUE-X-5, 001A-RED-X-5"


def test_conflict_when_prepack_and_size_readings_match_different_items(channel):
    ItemFactory(item_number="001A", color_code="RED", prepack_run="X", size="5", sku="A")
    ItemFactory(item_number="001A", color_code="RED", prepack_run="", size="X", sku="B")
    mapping = automapped(listing(channel, sku="001A-RED-X"))
    assert mapping.status == MappingStatus.CONFLICT
    assert mapping.note.endswith(": A, B")


def test_conflict_when_upc_and_sku_pattern_disagree(channel):
    by_upc = ItemFactory(upc="111111111111", sku="BY-UPC")
    ItemFactory(item_number="001A", color_code="RED", prepack_run="X", size="5", sku="001A-RED-X-5")
    mapping = automapped(listing(channel, sku="001A-RED-X-5", upc=by_upc.upc))
    assert (mapping.item, mapping.status) == (None, MappingStatus.CONFLICT)
    assert "001A-RED-X-5" in mapping.note and "BY-UPC" in mapping.note


def test_upc_settles_an_ambiguous_sku(channel):
    red = ItemFactory(item_number="001A", color_code="RED", upc="222222222222")
    ItemFactory(item_number="001A", color_code="BLUE")
    mapping = automapped(listing(channel, sku="001A", upc="222222222222"))
    assert (mapping.item, mapping.method) == (red, MappingMethod.UPC)


def test_sku_pattern_used_when_upc_matches_nothing(channel):
    item = ItemFactory(item_number="001A", color_code="RED", prepack_run="X", size="5")
    mapping = automapped(listing(channel, sku="001A-RED-X-5", upc="999999999999"))
    assert (mapping.item, mapping.method) == (item, MappingMethod.SKU_PATTERN)


def test_unmapped_when_nothing_matches_says_why(channel):
    ItemFactory()
    mapping = automapped(listing(channel, sku="ZZZ-1", upc="999999999999"))
    assert (mapping.item, mapping.status) == (None, MappingStatus.UNMAPPED)
    assert mapping.note == "No active item has UPC 999999999999; SKU ZZZ-1 matches no item number pattern"


@pytest.mark.parametrize("method", [MappingMethod.MANUAL, MappingMethod.IMPORT])
def test_person_chosen_mapping_is_kept_and_gets_a_suggestion(channel, method):
    chosen = ItemFactory()
    matching = ItemFactory(upc="333333333333")
    mapping = listing(channel, upc=matching.upc, item=chosen, method=method, status=MappingStatus.MAPPED)
    mapping = automapped(mapping)
    assert (mapping.item, mapping.method, mapping.status) == (chosen, method, MappingStatus.MAPPED)
    assert mapping.suggested_item == matching
    assert mapping.note == f"Suggested: UPC 333333333333 matches item {matching.sku}"


def test_person_chosen_mapping_gets_no_suggestion_when_automap_agrees(channel):
    item = ItemFactory(upc="333333333333")
    mapping = listing(channel, upc=item.upc, item=item, method=MappingMethod.MANUAL, status=MappingStatus.MAPPED)
    mapping = automapped(mapping)
    assert (mapping.item, mapping.suggested_item) == (item, None)


def test_ignored_listing_stays_ignored_with_a_suggestion(channel):
    item = ItemFactory(upc="444444444444")
    mapping = automapped(listing(channel, upc=item.upc, status=MappingStatus.IGNORED))
    assert (mapping.status, mapping.item, mapping.suggested_item) == (MappingStatus.IGNORED, None, item)


def test_stale_suggestion_is_cleared(channel):
    chosen = ItemFactory()
    gone = ItemFactory(active=False)
    mapping = listing(
        channel, item=chosen, method=MappingMethod.MANUAL, status=MappingStatus.MAPPED, suggested_item=gone, note="x"
    )
    mapping = automapped(mapping)
    assert (mapping.item, mapping.suggested_item, mapping.note) == (chosen, None, "")


def test_auto_mapping_to_an_item_made_inactive_is_undone(channel):
    item = ItemFactory(upc="555555555555", active=False)
    mapping = listing(channel, upc=item.upc, item=item, method=MappingMethod.UPC, status=MappingStatus.MAPPED)
    mapping = automapped(mapping)
    assert (mapping.item, mapping.status, mapping.method) == (None, MappingStatus.UNMAPPED, "")


def test_channel_limits_the_listings_mapped(channel):
    item = ItemFactory(upc="666666666666")
    other = listing(ChannelFactory(), upc=item.upc)
    mine = listing(channel, upc=item.upc)
    mapping_automap(channel=channel)
    mine.refresh_from_db()
    other.refresh_from_db()
    assert (mine.item, other.item) == (item, None)


def test_counts_outcomes_and_changed_rows(channel):
    item = ItemFactory(upc="777777777777")
    listing(channel, upc=item.upc)
    listing(channel, sku="NOTHING")
    listing(channel, upc=item.upc, method=MappingMethod.MANUAL, item=ItemFactory(), status=MappingStatus.MAPPED)
    counts = mapping_automap().counts
    assert (counts["mapped"], counts["unmapped"], counts["suggested"], counts["changed"]) == (1, 1, 1, 3)


def test_second_run_writes_nothing(channel, django_assert_num_queries):
    item = ItemFactory(upc="888888888888")
    listing(channel, upc=item.upc)
    mapping_automap()
    with django_assert_num_queries(4):  # kinds, case twins, the item index, the one chunk of listings; no update
        assert mapping_automap().counts["changed"] == 0


def test_every_chunk_is_mapped(channel):
    items = ItemFactory.create_batch(5)
    for item in items:
        listing(channel, upc=item.upc)
    mapping_automap(chunk_size=2)
    assert ItemMapping.objects.filter(status=MappingStatus.MAPPED).count() == 5


@pytest.mark.parametrize("listings", [1, 200])
def test_queries_do_not_grow_with_listings(channel, listings, django_assert_num_queries):
    for item in ItemFactory.create_batch(listings):
        listing(channel, upc=item.upc)
    ItemFactory.create_batch(20)  # more items than listings: the index is one query either way
    # the channels' kinds, their case twins (a ChannelAdvisor channel), the item index, one chunk of listings,
    # one upsert of the changed listings
    with django_assert_num_queries(5):
        assert mapping_automap().counts["mapped"] == listings


def test_item_sku_keys_cover_every_pattern():
    assert item_sku_keys("001A", "RED", "X", "5") == {
        "001A": "<Item Number>",
        "001A-RED-X-5": "<Item Number>-<Color Code>-<Prepack Run>-<Size>",
        "001A-RED-X": "<Item Number>-<Color Code>-<Prepack Run>",
        "001A-RED-5": "<Item Number>-<Color Code>-<Size>",
    }


def test_conflict_note_names_at_most_ten_candidates():
    index = ItemIndex()
    for n in range(12):
        index.add(n, f"S{n:02d}", "001A", f"C{n}", "", "1", "", True)
    decision = index.decide("001A", "")
    assert decision.note.endswith("S00, S01, S02, S03, S04, S05, S06, S07, S08, S09 and 2 more")


def test_on_a_case_sensitive_channel_only_the_exact_sku_maps_and_a_case_twin_is_a_conflict():
    channel = ChannelFactory(kind="channeladvisor")
    item = ItemFactory(item_number="001A", color_code="RED", prepack_run="X", size="5", upc="012345678905")
    exact, twin = listing(channel, sku="001A-RED-X-5"), listing(channel, sku="001a-red-x-5", upc="012345678905")
    mapping_automap(channel=channel)
    exact.refresh_from_db()
    twin.refresh_from_db()
    assert (exact.item, exact.status) == (item, MappingStatus.MAPPED)
    assert (twin.item, twin.status) == (None, MappingStatus.CONFLICT)
    assert "differs only by case" in twin.note
