import csv
import io

import openpyxl
import pytest

from catalog.importers import mapping_import
from catalog.models import ItemMapping, MappingMethod, MappingStatus
from catalog.resources import ItemMappingResource, MappingCSV, MappingXLSX
from catalog.spreadsheets import (
    cell_neutralise,
    cell_restore,
    cell_text,
    mapping_export_rows,
    table_from_bytes,
    table_read,
)
from tests.catalog.conftest import mapping_snapshot
from tests.factories import ItemFactory, ItemMappingFactory


@pytest.mark.parametrize("value", ["=SUM(A1:A9)", "+1", "-ABC", "@cmd", "\tx", "\rx"])
def test_formula_cells_are_neutralised(value):
    assert cell_neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["ABC-1", "0123", "", "'quoted", "a=b"])
def test_plain_cells_are_exported_as_they_are(value):
    assert cell_neutralise(value) == value


@pytest.mark.parametrize("value", ["=SUM(A1:A9)", "+1", "-ABC", "@cmd", "ABC", "'quoted", "'", ""])
def test_restore_undoes_neutralise(value):
    assert cell_restore(cell_neutralise(value)) == value


@pytest.mark.parametrize(("cell", "text"), [(None, ""), (12345678905.0, "12345678905"), (1.5, "1.5"), (7, "7")])
def test_cells_are_read_as_text(cell, text):
    assert cell_text(cell) == text


def test_csv_reader_keeps_blank_records_so_row_numbers_hold(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("\ufeffchannel,channel_sku\r\nshop,A\r\n\r\nshop,B\r\n", encoding="utf-8")
    assert list(table_read(path)) == [["channel", "channel_sku"], ["shop", "A"], [], ["shop", "B"]]


def test_xlsx_reader_streams_the_first_sheet_as_text(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["channel", "item_upc"])
    sheet.append(["shop", 12345678905])
    sheet.append([])
    sheet.append([None, "012"])
    path = tmp_path / "m.xlsx"
    book.save(path)
    assert list(table_read(path)) == [["channel", "item_upc"], ["shop", "12345678905"], [], ["", "012"]]


@pytest.mark.django_db
def test_export_rows_neutralise_formula_cells(channel):
    item = ItemFactory(sku="-1-ITEM")
    ItemMappingFactory(channel=channel, channel_sku="=HYPERLINK(1)", item=item, channel_upc="+44")
    assert list(mapping_export_rows(mappings=ItemMapping.objects.all())) == [
        ("shop", "'=HYPERLINK(1)", "'-1-ITEM", "", "", "'+44", "no")
    ]


@pytest.mark.django_db
def test_export_marks_ignored_listings(channel):
    ItemMappingFactory(channel=channel, channel_sku="L-1", status=MappingStatus.IGNORED)
    (exported,) = mapping_export_rows(mappings=ItemMapping.objects.all())
    assert exported[-1] == "yes"


def _listings(channel):
    mapped = ItemFactory(sku="=ITEM")
    ItemMappingFactory(
        channel=channel, channel_sku="-A", item=mapped, status=MappingStatus.MAPPED, method=MappingMethod.UPC
    )
    ItemMappingFactory(channel=channel, channel_sku="@B", status=MappingStatus.IGNORED, channel_product_id="+P")
    ItemMappingFactory(channel=channel, channel_sku="C", status=MappingStatus.UNMAPPED, channel_upc="012")
    return mapped


def _reimport(data, file_format):
    dataset = file_format().create_dataset(data)
    return mapping_import(header=dataset.headers, rows=iter(dataset))


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", [MappingCSV, MappingXLSX])
def test_export_then_import_changes_nothing(channel, file_format):
    _listings(channel)
    before = mapping_snapshot()
    exported = file_format().export_data(ItemMappingResource().export(ItemMapping.objects.all()))
    result = _reimport(exported, file_format)
    assert (result.errors, result.new, result.updated, result.unchanged) == ([], 0, 0, 3)
    assert mapping_snapshot() == before


@pytest.mark.django_db
def test_edited_export_imports_the_edit(channel):
    _listings(channel)
    chosen = ItemFactory(sku="CHOSEN")
    exported = MappingCSV().export_data(ItemMappingResource().export(ItemMapping.objects.all()))
    rows = list(csv.reader(io.StringIO(exported)))
    rows[[r[1] for r in rows].index("C")][2] = "CHOSEN"
    edited = io.StringIO()
    csv.writer(edited).writerows(rows)
    result = _reimport(edited.getvalue(), MappingCSV)
    assert (result.errors, result.updated, result.unchanged) == ([], 1, 2)
    assert ItemMapping.objects.get(channel_sku="C").item == chosen


@pytest.mark.django_db
def test_exported_xlsx_holds_no_formulas(channel):
    _listings(channel)
    exported = MappingXLSX().export_data(ItemMappingResource().export(ItemMapping.objects.all()))
    sheet = openpyxl.load_workbook(io.BytesIO(exported)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    assert "'=ITEM" in [cell.value for cell in cells]


def test_uploaded_bytes_are_read_like_files():
    assert list(table_from_bytes(b"\xef\xbb\xbfchannel\r\nshop\r\n", "csv")) == [["channel"], ["shop"]]
