import pytest

from catalog.importers import ERRORS_KEPT, mapping_import
from catalog.models import ItemMapping, MappingMethod, MappingStatus
from catalog.spreadsheets import COLUMNS
from tests.catalog.conftest import mapping_snapshot
from tests.factories import ChannelFactory, ItemFactory, ItemMappingFactory

pytestmark = pytest.mark.django_db


def row(channel="shop", sku="L-1", item_sku="", item_upc="", product_id="", upc="", ignore="no") -> list[str]:
    return [channel, sku, item_sku, item_upc, product_id, upc, ignore]


def run(rows, header=COLUMNS, **options):
    return mapping_import(header=header, rows=rows, source="mappings.csv", **options)


def test_new_listing_is_mapped_by_import(channel):
    item = ItemFactory()
    result = run([row(item_sku=item.sku, product_id="P1", upc="0123")])
    assert (result.new, result.updated, result.unchanged, result.errors) == (1, 0, 0, [])
    mapping = ItemMapping.objects.get()
    assert (mapping.channel, mapping.channel_sku, mapping.item) == (channel, "L-1", item)
    assert (mapping.status, mapping.method) == (MappingStatus.MAPPED, MappingMethod.IMPORT)
    assert (mapping.channel_product_id, mapping.channel_upc) == ("P1", "0123")
    assert mapping.note == "Imported from mappings.csv, row 2"


def test_item_can_be_named_by_upc(channel):
    item = ItemFactory(upc="012345678905")
    run([row(item_upc="012345678905")])
    assert ItemMapping.objects.get().item == item


def test_item_upc_written_as_a_number_still_matches(channel):
    item = ItemFactory(upc="012345678905")
    run([row(item_upc="12345678905")])  # a spreadsheet that held the UPC as a number lost the leading zero
    assert ItemMapping.objects.get().item == item


def test_ignore_yes_imports_an_ignored_listing(channel):
    run([row(ignore="YES")])
    mapping = ItemMapping.objects.get()
    assert (mapping.status, mapping.method, mapping.item) == (MappingStatus.IGNORED, MappingMethod.IMPORT, None)


def test_existing_listing_is_updated_in_place(channel):
    old, new = ItemFactory(), ItemFactory()
    existing = ItemMappingFactory(channel=channel, channel_sku="L-1", item=old, status=MappingStatus.MAPPED)
    result = run([row(item_sku=new.sku)])
    assert (result.new, result.updated) == (0, 1)
    existing.refresh_from_db()
    assert (existing.item, existing.method, ItemMapping.objects.count()) == (new, MappingMethod.IMPORT, 1)


def test_import_clears_a_pending_suggestion(channel):
    chosen, suggested = ItemFactory(), ItemFactory()
    existing = ItemMappingFactory(channel=channel, channel_sku="L-1", suggested_item=suggested)
    run([row(item_sku=chosen.sku)])
    existing.refresh_from_db()
    assert (existing.item, existing.suggested_item) == (chosen, None)


def test_row_that_changes_nothing_is_left_alone(channel):
    item = ItemFactory()
    existing = ItemMappingFactory(
        channel=channel, channel_sku="L-1", item=item, status=MappingStatus.MAPPED, method=MappingMethod.UPC, note="n"
    )
    result = run([row(item_sku=item.sku)])
    assert (result.new, result.updated, result.unchanged) == (0, 0, 1)
    existing.refresh_from_db()
    assert (existing.method, existing.note) == (MappingMethod.UPC, "n")


def test_blank_optional_cells_keep_current_values(channel):
    item = ItemFactory()
    existing = ItemMappingFactory(channel=channel, channel_sku="L-1", channel_product_id="P9", channel_upc="999")
    run([row(item_sku=item.sku)])
    existing.refresh_from_db()
    assert (existing.item, existing.channel_product_id, existing.channel_upc) == (item, "P9", "999")


def test_waiting_listing_with_blank_item_is_unchanged(channel):
    existing = ItemMappingFactory(channel=channel, channel_sku="L-1", status=MappingStatus.CONFLICT, note="two")
    result = run([row()])
    assert (result.unchanged, result.errors) == (1, [])
    existing.refresh_from_db()
    assert (existing.status, existing.note) == (MappingStatus.CONFLICT, "two")


def test_formula_neutraliser_is_stripped(channel):
    item = ItemFactory(sku="-ODD")
    run([row(sku="'=CMD()", item_sku="'-ODD")])
    mapping = ItemMapping.objects.get()
    assert (mapping.channel_sku, mapping.item) == ("=CMD()", item)


def test_channel_option_fills_blank_channel(channel):
    item = ItemFactory()
    result = run([row(channel="", item_sku=item.sku)], channel=channel)
    assert result.errors == []
    assert ItemMapping.objects.get().channel == channel


def test_channel_column_may_be_left_out_with_channel_option(channel):
    item = ItemFactory()
    run([["L-1", item.sku]], header=["channel_sku", "item_sku"], channel=channel)
    assert ItemMapping.objects.get().item == item


def test_dry_run_counts_and_writes_nothing(channel):
    item = ItemFactory()
    result = run([row(item_sku=item.sku)], dry_run=True)
    assert (result.new, result.written) == (1, False)
    assert not ItemMapping.objects.exists()


def test_row_numbers_count_blank_rows(channel):
    item = ItemFactory()
    result = run([row(item_sku=item.sku), ["", "", ""], row(sku="L-2", item_sku="NOPE")])
    assert [(e.row, e.message) for e in result.errors] == [(4, "unknown item_sku NOPE")]


def _bad_rows(channel):
    item, inactive = ItemFactory(), ItemFactory(active=False, upc="000000000777")
    return {
        "unknown item": (row(item_sku="NOPE"), "unknown item_sku NOPE"),
        "unknown channel": (row(channel="nowhere", item_sku=item.sku), "unknown channel nowhere"),
        "duplicate channel sku": (
            row(sku="GOOD", item_sku=item.sku),
            "channel_sku GOOD for shop already appears on row 2",
        ),
        "blank channel sku": (row(sku="", item_sku=item.sku), "channel_sku is blank"),
        "blank channel": (row(channel="", item_sku=item.sku), "channel is blank"),
        "blank item": (row(), "item_sku or item_upc is required (or ignore = yes)"),
        "inactive item sku": (row(item_sku=inactive.sku), f"item_sku {inactive.sku} is an inactive item"),
        "inactive item upc": (row(item_upc="777"), f"item_upc 777 belongs to inactive item {inactive.sku}"),
        "unknown upc": (row(item_upc="404"), "no item has UPC 404"),
        "ignore not yes/no": (row(item_sku=item.sku, ignore="maybe"), "ignore must be yes or no, not 'maybe'"),
        "channel sku too long": (row(sku="x" * 201, item_sku=item.sku), "channel_sku is longer than 200 characters"),
    }


BAD_CASES = [
    "unknown item",
    "unknown channel",
    "duplicate channel sku",
    "blank channel sku",
    "blank channel",
    "blank item",
    "inactive item sku",
    "inactive item upc",
    "unknown upc",
    "ignore not yes/no",
    "channel sku too long",
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_row_is_reported_and_nothing_is_imported(channel, case):
    bad, message = _bad_rows(channel)[case]
    good_item = ItemFactory()
    ItemMappingFactory(channel=channel, channel_sku="EXISTING", note="before")
    before = mapping_snapshot()
    result = run([row(sku="GOOD", item_sku=good_item.sku), bad, row(sku="EXISTING", item_sku=good_item.sku)])
    assert [(e.row, e.message) for e in result.errors] == [(3, message)]
    assert result.errors[0].values == tuple(bad)
    assert mapping_snapshot() == before


def test_item_sku_and_upc_naming_different_items_is_refused(channel):
    first, second = ItemFactory(), ItemFactory()
    result = run([row(item_sku=first.sku, item_upc=second.upc)])
    assert result.errors[0].message == f"item_sku {first.sku} and item_upc {second.upc} name different items"
    assert not ItemMapping.objects.exists()


def test_channel_option_refuses_rows_for_another_channel(channel):
    item = ItemFactory()
    ChannelFactory(slug="other")
    result = run([row(channel="other", item_sku=item.sku)], channel=channel)
    assert result.errors[0].message == "channel other is not shop, the channel being imported"
    assert not ItemMapping.objects.exists()


def test_missing_column_is_reported_on_the_header_row(channel):
    result = run([["L-1", "X"]], header=["channel_sku", "item_sku"])
    assert result.errors[0].row == 1
    assert result.errors[0].message.startswith("column 'channel' is missing")
    assert not ItemMapping.objects.exists()


def test_unknown_column_is_reported_on_the_header_row(channel):
    result = run([row()], header=[*COLUMNS[:-1], "ignored"])
    assert result.errors[0].row == 1
    assert "unknown column 'ignored'" in result.errors[0].message


def test_every_bad_row_is_listed(channel):
    result = run([row(sku=f"L-{n}", item_sku="NOPE") for n in range(3)])
    assert [e.row for e in result.errors] == [2, 3, 4]


def test_header_is_read_case_insensitively(channel):
    item = ItemFactory()
    result = run([row(item_sku=item.sku)], header=[name.upper() for name in COLUMNS])
    assert (result.new, result.errors) == (1, [])


def test_chunks_cover_every_row(channel):
    items = ItemFactory.create_batch(5)
    result = run([row(sku=f"L-{n}", item_sku=item.sku) for n, item in enumerate(items)], chunk_size=2)
    assert result.new == 5
    assert ItemMapping.objects.filter(method=MappingMethod.IMPORT).count() == 5


@pytest.mark.parametrize("rows", [1, 100])
def test_queries_do_not_grow_with_rows(channel, rows, django_assert_num_queries):
    items = ItemFactory.create_batch(rows)
    ItemMappingFactory(channel=channel, channel_sku="L-0")
    lines = [row(sku=f"L-{n}", item_sku=item.sku, item_upc=item.upc) for n, item in enumerate(items)]
    # channels, items by SKU, items by UPC, existing listings; then one upsert for the chunk (an executemany on
    # SQLite, one INSERT ... SELECT FROM unnest on PostgreSQL) in a transaction (SAVEPOINT + RELEASE inside the
    # test's transaction).
    with django_assert_num_queries(4 + 2 + 1):
        assert run(lines).errors == []


@pytest.mark.parametrize("bad", ["L-\x001", "L-\x07", "L\t1", "L-\x7f"])
def test_control_characters_in_a_cell_are_a_row_error_and_nothing_is_written(channel, bad):
    item = ItemFactory()
    before = mapping_snapshot()
    result = run([row(sku="L-0", item_sku=item.sku), row(sku=bad, item_sku=item.sku)])
    (error,) = result.errors
    code = f"U+{ord(next(c for c in bad if ord(c) < 32 or ord(c) == 127)):04X}"
    assert (error.row, error.message) == (3, f"channel_sku contains a control character ({code})")
    assert "\x00" not in "".join(error.values) and error.values[1].startswith("L")
    assert mapping_snapshot() == before


def test_control_characters_are_named_by_column_or_position(channel):
    result = run([["shop", "L-1", "\x00", "", "", "", "no", "x\x01y"]])
    assert result.errors[0].message == (
        "item_sku contains a control character (U+0000); column 8 contains a control character (U+0001)"
    )
    assert result.errors[0].values[2] == "\\x00"


def test_only_the_first_bad_rows_are_kept_and_every_one_is_counted(channel):
    item = ItemFactory()
    # bad rows of both kinds (refused when read, and refused on lookup), between good ones, over many chunks
    rows = [
        row(sku=f"L-{n}", item_sku=item.sku if n % 3 == 0 else "NOPE", ignore="?" if n % 3 == 1 else "no")
        for n in range(ERRORS_KEPT * 3)
    ]
    result = run(rows, chunk_size=100)
    bad = [number for number in range(2, len(rows) + 2) if (number - 2) % 3]
    assert result.error_count == len(bad)
    assert [error.row for error in result.errors] == bad[:ERRORS_KEPT]
    assert result.summary().endswith(f"{len(bad)} errors")
    assert not ItemMapping.objects.exists()


def test_a_long_run_of_bad_rows_keeps_the_first_ones(channel):
    result = run([row(sku="", item_sku="x") for _ in range(ERRORS_KEPT * 3)])
    assert result.error_count == ERRORS_KEPT * 3
    assert [error.row for error in result.errors] == list(range(2, ERRORS_KEPT + 2))


def test_a_listing_repeated_in_a_later_chunk_is_a_bad_row(channel):
    item = ItemFactory()
    rows = [row(sku=f"L-{n}", item_sku=item.sku) for n in range(10)] + [row(sku="L-3", item_sku=item.sku)]
    result = run(rows, chunk_size=4)
    assert [(error.row, error.message) for error in result.errors] == [
        (12, "channel_sku L-3 for shop already appears on row 5")
    ]
    assert not ItemMapping.objects.exists()


def test_writes_come_out_of_the_scratch_in_chunks_in_file_order(channel):
    item = ItemFactory()
    result = run([row(sku=f"L-{n}", item_sku=item.sku) for n in range(25)], chunk_size=4)
    assert result.new == 25
    notes = dict(ItemMapping.objects.values_list("channel_sku", "note"))
    assert notes["L-0"] == "Imported from mappings.csv, row 2" and notes["L-24"] == "Imported from mappings.csv, row 26"
