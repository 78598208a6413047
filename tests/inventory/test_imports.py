"""Stock-level and incoming-supply imports read hostile files strictly: every bad row is listed with its
spreadsheet row number, the column and a readable reason (never an exception's repr or a traceback), a NUL or
other control character is a row error (PostgreSQL cannot store it), and a file with any bad row changes nothing,
at the preview and at the confirmed import. Each upload is an import job (inventory/import_jobs.py); these files
are small, so the job runs in the request and its page shows the result."""

import io
from datetime import date, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from openpyxl import Workbook

from integrations.models import ImportStatus
from inventory.import_cells import Quantity, When
from inventory.models import IncomingSupply, InventoryImport, StockLevel
from tests.factories import ItemFactory
from tests.inventory.factories import IncomingSupplyFactory, StockLevelFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

STOCK_HEADER = "item_sku,warehouse,on_hand,allocated,available,updated_at\n"
SUPPLY_HEADER = "item_sku,warehouse,purchase_order,quantity,expected_date\n"
CSV, XLSX = "0", "1"  # the positions of the formats in the import form


@pytest.fixture
def stock():
    main = WarehouseFactory(code="MAIN")
    WarehouseFactory(code="EAST")
    item = ItemFactory(sku="SKU-1")
    ItemFactory(sku="SKU-2")
    StockLevelFactory(item=item, warehouse=main, on_hand=9, allocated=1, available=8)
    IncomingSupplyFactory(item=item, warehouse=main, purchase_order="PO-1", quantity=3)
    return main


@pytest.fixture(autouse=True)
def uploads(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"


def preview(client, model: str, data: bytes, name: str = "file.csv", fmt: str = CSV):
    """Upload a file; the response is its job's page (the job ran in the request: the file is small)."""
    upload = SimpleUploadedFile(name, data)
    response = client.post(
        reverse(f"admin:inventory_{model}_import"),
        {"format": fmt, "resource": "0", "import_file": upload},
        follow=True,
    )
    assert response.status_code == 200
    return response


def job_of(response) -> InventoryImport:
    return response.context["job"]


def confirm(client, response):
    job = job_of(response)
    return client.post(reverse(f"admin:inventory_{job.kind}_import_confirm", args=[job.pk]), follow=True)


def problems(response) -> dict[int, str]:
    """Each bad row's spreadsheet number and its problems, as the job's page lists them."""
    job = job_of(response)
    job.refresh_from_db()
    page = response.content.decode()
    assert all(escape(error["message"]) in page for error in job.errors)
    return {error["row"]: error["message"] for error in job.errors}


def snapshot() -> list:
    return [
        list(StockLevel.objects.order_by("pk").values_list("item__sku", "warehouse__code", "on_hand", "available")),
        list(IncomingSupply.objects.order_by("pk").values_list("purchase_order", "quantity", "expected_date")),
    ]


def test_every_bad_stock_row_is_listed_with_its_row_column_and_reason_and_nothing_changes(admin_client, stock):
    before = snapshot()
    csv = STOCK_HEADER + (
        "SKU-1,MAIN,abc,1,8,2026-11-01 08:00:00\n"  # row 2
        "SKU-2,EAST,1.5,0,1,notadate\n"  # row 3
        "SKU-2,MAIN,4,0,4,2026-11-01 08:00:00\n"  # row 4: good
        "NOPE,EAST,1,0,1,\n"  # row 5
        "SKU-1,EAST,99999999999,0,1,\n"  # row 6
        "SKU-1,,1,0,1,\n"  # row 7
    )
    response = preview(admin_client, "stocklevel", csv.encode())
    assert problems(response) == {
        2: "on_hand: 'abc' is not a whole number",
        3: "on_hand: '1.5' is not a whole number; updated_at: 'notadate' is not a date and time like 2026-11-01 08:00:00",
        5: "item_sku: no item with sku 'NOPE'",
        6: "on_hand: 99999999999 is out of range: it must be between -2,147,483,648 and 2,147,483,647",
        7: "warehouse: is empty",
    }
    page = response.content.decode()
    assert "5 bad rows: nothing was imported" in page
    assert "ConversionSyntax" not in page and "Traceback" not in page and "<class" not in page
    assert "Confirm import" not in page and job_of(response).status == ImportStatus.REJECTED
    assert snapshot() == before


def test_every_bad_supply_row_is_listed(admin_client, stock):
    csv = SUPPLY_HEADER + (
        f"SKU-1,MAIN,PO-2,x,2026-12-01\nSKU-1,MAIN,PO-3,-5,2026-13-01\nSKU-1,MAIN,{'P' * 61},5,\nSKU-1,MAIN,PO-4,5.5,\n"
    )
    assert problems(preview(admin_client, "incomingsupply", csv.encode())) == {
        2: "quantity: 'x' is not a whole number",
        3: "quantity: -5 is out of range: it must be between 0 and 2,147,483,647; "
        "expected_date: '2026-13-01' is not a date like 2026-11-01",
        4: "purchase_order: is 61 characters long; at most 60 fit",
        5: "quantity: '5.5' is not a whole number",
    }


@pytest.mark.parametrize("char, name", [("\x00", "NUL"), ("\x07", "U+0007"), ("\x1b", "U+001B")])
def test_a_control_character_in_a_cell_is_a_row_error_not_a_crash(admin_client, stock, char, name):
    """On PostgreSQL a NUL reaching a query raises; it must stop at the row, with the row number."""
    before = snapshot()
    csv = SUPPLY_HEADER + f"SKU-1,MAIN,PO-9,5,\nSKU-1,MA{char}IN,PO{char}-9,5,\nSKU{char}-2,EAST,PO-9,5,\n"
    found = problems(preview(admin_client, "incomingsupply", csv.encode()))
    control = f"contains a control character ({name}) at position 3: remove it"
    assert found == {
        3: f"warehouse: {control}; purchase_order: {control}",
        4: f"item_sku: contains a control character ({name}) at position 4: remove it",
    }
    assert snapshot() == before


def test_the_same_key_twice_in_a_file_is_refused_on_the_later_row(admin_client, stock):
    csv = STOCK_HEADER + "SKU-2,EAST,1,0,1,\nSKU-1,MAIN,2,0,2,\nSKU-2,EAST,3,0,3,\n"
    assert problems(preview(admin_client, "stocklevel", csv.encode())) == {
        4: "repeats row 2 (the same item_sku, warehouse)"
    }


def test_a_file_without_a_key_column_is_one_clear_line(admin_client, stock):
    response = preview(admin_client, "stocklevel", b"item_sku,on_hand\nSKU-1,4\n")
    assert job_of(response).message == (
        "Nothing imported: the file has no warehouse column: the first row must name the columns "
        "(item_sku, warehouse, on_hand, allocated, available, updated_at)."
    )
    page = response.content.decode()
    assert escape(job_of(response).message) in page and "Traceback" not in page


def test_an_xlsx_with_numbers_and_dates_imports_and_its_bad_rows_are_listed(admin_client, stock):
    book = Workbook()
    sheet = book.active
    sheet.append(["item_sku", "warehouse", "purchase_order", "quantity", "expected_date"])
    sheet.append(["SKU-2", "EAST", "PO-5", 12.0, date(2026, 12, 1)])  # what a spreadsheet stores
    sheet.append(["SKU-2", "EAST", "PO-6", 2.5, None])
    data = io.BytesIO()
    book.save(data)
    response = preview(admin_client, "incomingsupply", data.getvalue(), "supply.xlsx", XLSX)
    assert problems(response) == {3: "quantity: '2.5' is not a whole number"}
    sheet.delete_rows(3)
    data = io.BytesIO()
    book.save(data)
    response = preview(admin_client, "incomingsupply", data.getvalue(), "supply.xlsx", XLSX)
    assert "Import finished: 1 new, 0 updated, 0 unchanged." in confirm(admin_client, response).content.decode()
    assert IncomingSupply.objects.get(purchase_order="PO-5").expected_date == date(2026, 12, 1)


def test_a_row_gone_bad_between_preview_and_confirm_rolls_the_whole_import_back(admin_client, stock):
    csv = STOCK_HEADER + "SKU-1,MAIN,20,0,20,\nSKU-2,EAST,4,0,4,\n"
    response = preview(admin_client, "stocklevel", csv.encode())
    WarehouseFactory._meta.model.objects.filter(code="EAST").delete()  # someone else's change meanwhile
    before = snapshot()
    confirmed = confirm(admin_client, response)
    assert "Nothing imported from file.csv: see why below." in confirmed.content.decode()
    assert problems(confirmed) == {3: "warehouse: no warehouse with code 'EAST'"}
    assert snapshot() == before  # SKU-1 at MAIN was good, and is not written either


@pytest.mark.parametrize(
    "cell, expected",
    [("12", 12), (" 7 ", 7), ("-3", -3), (12.0, 12), (5, 5), ("4.0", 4)],
)
def test_a_quantity_cell_reads_whole_numbers(cell, expected):
    assert Quantity().clean(cell) == expected


@pytest.mark.parametrize("cell", ["1e3", "NaN", "Infinity", "1,000", "1.5", 2.5, True, "", None, "0x10"])
def test_a_quantity_cell_refuses_anything_else(cell):
    with pytest.raises(ValueError):
        Quantity().clean(cell)


def test_blank_lines_are_skipped_and_rows_keep_their_spreadsheet_numbers(admin_client, stock):
    csv = STOCK_HEADER + "SKU-2,EAST,4,0,4,\n,,,,,\n\nSKU-1,EAST,x,0,1,\n"
    assert problems(preview(admin_client, "stocklevel", csv.encode())) == {5: "on_hand: 'x' is not a whole number"}


def test_only_csv_and_xlsx_are_read(admin_client, stock):
    form = admin_client.get(reverse("admin:inventory_stocklevel_import")).context["form"]
    assert [label for _, label in form.fields["format"].choices][1:] == ["csv", "xlsx"]


def test_a_date_column_refuses_a_time_of_day(admin_client, stock):
    csv = SUPPLY_HEADER + "SKU-2,EAST,PO-7,1,2026-12-01T00:00:00\nSKU-2,EAST,PO-8,1,2026-12-01 08:30:00\n"
    assert problems(preview(admin_client, "incomingsupply", csv.encode())) == {
        3: "expected_date: '2026-12-01 08:30:00' is not a date like 2026-11-01"
    }


@pytest.mark.parametrize(
    "data, fmt, expected",
    [
        (b"PK\x03\x04 not really a workbook", XLSX, "expected an XLSX workbook, but the file is not one (BadZipFile"),
        ("item_sku,warehouse\n\u00e9,MAIN\n".encode("latin-1"), CSV, "expected a CSV file in UTF-8, but cannot read"),
    ],
)
def test_a_file_that_is_not_what_its_format_says_is_one_line_naming_the_format(
    admin_client, stock, data, fmt, expected
):
    response = preview(admin_client, "stocklevel", data, "stock.file", fmt)
    message = job_of(response).message
    assert message.startswith(f"Nothing imported: {expected}") and "encountered" not in message
    assert escape(message) in response.content.decode()


def test_a_row_that_changes_nothing_is_counted_unchanged_and_not_written(admin_client, stock):
    moment = When(datetime).clean("2026-11-01 08:00:00")
    StockLevel.objects.update(updated_at=moment)
    csv = STOCK_HEADER + "SKU-1,MAIN,9,1,8,2026-11-01 08:00:00\nSKU-1,EAST,9,1,8,2026-11-01 08:00:00\n"
    response = preview(admin_client, "stocklevel", csv.encode())
    assert "1 new, 0 updated, 1 unchanged" in response.content.decode()
