"""The streaming XLSX reader (catalog/xlsx_stream.py) gives the values openpyxl's read-only reader gives, keeps
the sheet's row numbers, and refuses what it cannot or must not read with one line."""

import io
import zipfile
from datetime import date, datetime, time

import openpyxl
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from catalog.xlsx_stream import XlsxUnreadable, xlsx_declared_rows, xlsx_values


def _openpyxl_values(path):
    """What catalog/spreadsheets.py read before: openpyxl read-only, values only, dimensions reset."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _rich_book(path, *, epoch_1904=False):
    book = openpyxl.Workbook()
    if epoch_1904:
        book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    sheet = book.active
    sheet.append(["channel", "channel_sku", "item_upc", "price", "flag"])
    sheet.append(["shop", "A-1", 12345678905, 1.5, True])
    sheet.append(["shop & co <x>", "  spaced  ", "012", -3, False])
    sheet.append([])
    sheet.append([None, None, "late"])
    sheet["A6"] = datetime(2026, 3, 1, 10, 30)
    sheet["B6"] = date(2026, 3, 2)
    sheet["C6"] = time(12, 15)
    sheet["D6"] = "=1+2"  # a formula with no cached value (openpyxl does not compute)
    sheet["E6"] = 2.5e20
    sheet["A7"] = CellRichText(["bold ", TextBlock(InlineFont(b=True), "part")])
    sheet["A9"] = "after a gap"
    sheet.append(["x005F_kept", "ünïcødé", "\u4e2d\u6587"])
    book.save(path)


@pytest.mark.parametrize("epoch_1904", [False, True])
def test_values_are_the_ones_openpyxl_reads(tmp_path, epoch_1904):
    path = tmp_path / "book.xlsx"
    _rich_book(path, epoch_1904=epoch_1904)
    assert list(xlsx_values(path)) == _openpyxl_values(path)


def test_inline_strings_of_a_write_only_workbook(tmp_path):
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["channel", "channel_sku", "item_sku"])
    for n in range(50):
        sheet.append(["shop", f"L-{n}", None if n % 7 == 0 else f"I-{n}"])
    sheet.append([])
    sheet.append(["shop", "last"])
    path = tmp_path / "inline.xlsx"
    book.save(path)
    rows = list(xlsx_values(path))
    assert rows == _openpyxl_values(path)
    assert rows[1] == ["shop", "L-0"] and rows[-2] == [] and len(rows) == 53


def test_the_first_worksheet_in_workbook_order_is_read(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "first"
    book.active["A1"] = "one"
    book.create_sheet("second")["A1"] = "two"
    book.move_sheet("second", offset=-1)
    path = tmp_path / "two.xlsx"
    book.save(path)
    assert list(xlsx_values(path)) == [["two"]] == _openpyxl_values(path)


def test_declared_rows_come_from_the_dimension(tmp_path):
    path = tmp_path / "book.xlsx"
    _rich_book(path)
    assert xlsx_declared_rows(path) == 10
    book = openpyxl.Workbook(write_only=True)
    book.create_sheet().append(["a"])
    unsized = tmp_path / "unsized.xlsx"
    book.save(unsized)
    assert xlsx_declared_rows(unsized) is None


def _with_sheet_xml(tmp_path, xml: bytes):
    book = openpyxl.Workbook()
    book.active["A1"] = "x"
    source = tmp_path / "base.xlsx"
    book.save(source)
    target = io.BytesIO()
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            new.writestr(item, xml if item.filename == "xl/worksheets/sheet1.xml" else old.read(item))
    return target


def test_a_sheet_declaring_entities_is_refused_before_any_is_expanded(tmp_path):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>&b;</t></is></c></row></sheetData></worksheet>'
    )
    with pytest.raises(XlsxUnreadable, match="declares a DTD or entities"):
        list(xlsx_values(_with_sheet_xml(tmp_path, bomb)))


def test_cells_out_of_order_and_without_references_keep_their_columns(tmp_path):
    sheet = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row><c t="inlineStr"><is><t>a</t></is></c><c><v>2</v></c></row>'
        b'<row r="3"><c r="C3" t="str"><f>X</f><v>three</v></c><c r="A3" t="e"><v>#N/A</v></c></row>'
        b'<row r="4"><c r="B4" t="inlineStr"><is><r><t>ri</t></r><r><t>ch</t></r><rPh><t>no</t></rPh></is></c></row>'
        b"</sheetData></worksheet>"
    )
    rows = list(xlsx_values(_with_sheet_xml(tmp_path, sheet)))
    assert rows == [["a", 2], [], ["#N/A", None, "three"], [None, "rich"]]


def test_a_file_that_is_not_a_workbook_is_one_clear_error():
    with pytest.raises(XlsxUnreadable, match="not an XLSX workbook"):
        list(xlsx_values(io.BytesIO(b"not a zip")))


def test_a_workbook_without_its_parts_is_one_clear_error():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(XlsxUnreadable, match=r"not an XLSX workbook: There is no item named 'xl/workbook\.xml'"):
        list(xlsx_values(archive))
