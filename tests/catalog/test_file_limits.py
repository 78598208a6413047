"""Files are checked against the limits before they are parsed: zip bombs, too many rows, liars, XXE."""

import io
import re
import zipfile

import openpyxl
import pytest

from catalog.spreadsheets import row_count_estimate, table_from_bytes, table_read
from integrations.file_limits import FileRefused, xlsx_archive_check
from tests.catalog.hostile import (
    SHARED,
    SHEET,
    XXE,
    bomb,
    declared_bomb,
    declaring,
    shared_strings,
    with_member,
    workbook,
)

HEADER = ["channel", "channel_sku", "item_sku"]


def read_all(content: bytes, fmt: str = "xlsx") -> list[list[str]]:
    return list(table_from_bytes(content, fmt))


def test_openpyxl_parses_workbooks_with_defusedxml():
    assert openpyxl.DEFUSEDXML is True


def test_a_small_file_whose_shared_strings_inflate_a_thousandfold_is_refused_before_parsing():
    content = bomb()
    assert len(content) < 100_000
    with pytest.raises(FileRefused, match=r"xl/sharedStrings\.xml is compressed [\d,]+ to 1, like a zip bomb"):
        read_all(content)


def test_a_workbook_declaring_gigabytes_is_refused_from_its_directory_alone():
    with pytest.raises(FileRefused, match=r"would inflate to 3,328\.0 MB; the limit is 1,024\.0 MB"):
        read_all(declared_bomb())


def test_a_part_read_whole_into_memory_is_held_to_the_member_limit(settings):
    settings.IMPORT_MAX_MEMBER_BYTES = 50_000
    text = " ".join(f"w{n}" for n in range(20_000)).encode()  # about 130 KB, compresses only a few times
    content = with_member(workbook([HEADER]), SHARED, b"<sst><si><t>" + text + b"</t></si></sst>")
    with pytest.raises(FileRefused, match=r"part xl/sharedStrings\.xml would inflate to .*IMPORT_MAX_MEMBER_BYTES"):
        read_all(content)


def test_worksheets_are_streamed_so_only_the_total_limits_them(settings):
    settings.IMPORT_MAX_MEMBER_BYTES = 20_000  # above every part but the sheet
    assert read_all(workbook([HEADER, ["shop", "L-1", "S-1"]]))[1] == ["shop", "L-1", "S-1"]
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 10_000
    with pytest.raises(FileRefused, match="IMPORT_MAX_UNCOMPRESSED_BYTES"):
        read_all(workbook([HEADER]))


def test_a_part_that_understates_its_size_is_never_inflated_past_it():
    content = with_member(workbook([HEADER]), SHARED, shared_strings(5 * 1024 * 1024))
    liar = declaring(content, SHARED, 1000)  # passes every check: 1000 bytes declared
    xlsx_archive_check(io.BytesIO(liar))
    with pytest.raises(FileRefused, match=r"cannot read it \(BadZipFile: Bad CRC-32"):
        read_all(liar)  # zipfile stops at the declared 1000 bytes, and the CRC says so


def test_too_many_rows_are_refused_before_parsing(settings, tmp_path):
    settings.IMPORT_MAX_ROWS = 3
    rows = [HEADER] + [["shop", f"L-{n}", "S"] for n in range(4)]
    csv = "".join(",".join(row) + "\n" for row in rows).encode()
    with pytest.raises(FileRefused, match=r"the file has 4 rows; the limit is 3 \(IMPORT_MAX_ROWS\)"):
        read_all(csv, "csv")
    path = tmp_path / "m.csv"
    path.write_bytes(csv)
    with pytest.raises(FileRefused, match="the file has 4 rows"):
        next(table_read(path))
    with pytest.raises(FileRefused, match=r"the file declares 4 rows; the limit is 3"):
        read_all(workbook(rows))
    assert len(read_all(workbook(rows[:4]))) == 4  # exactly the limit is fine


def test_a_workbook_that_understates_its_rows_is_stopped_at_the_limit(settings):
    settings.IMPORT_MAX_ROWS = 3
    content = workbook([HEADER] + [["shop", f"L-{n}", "S"] for n in range(5)])
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet = archive.read(SHEET).decode()
    liar = with_member(content, SHEET, re.sub(r'<dimension ref="[^"]+"', '<dimension ref="A1:C1"', sheet).encode())
    rows = table_from_bytes(liar, "xlsx")
    assert [next(rows) for _ in range(4)][3] == ["shop", "L-2", "S"]
    with pytest.raises(FileRefused, match=r"more than 3 rows \(IMPORT_MAX_ROWS\)"):
        next(rows)


def test_a_file_over_the_upload_limit_is_refused(settings, tmp_path):
    settings.IMPORT_MAX_UPLOAD_BYTES = 10
    with pytest.raises(FileRefused, match=r"the file is 32 bytes; the limit is 10 bytes \(IMPORT_MAX_UPLOAD_BYTES\)"):
        read_all(b"channel,channel_sku\nshop,L-1234\n", "csv")
    path = tmp_path / "m.xlsx"
    path.write_bytes(workbook([HEADER]))
    with pytest.raises(FileRefused, match="IMPORT_MAX_UPLOAD_BYTES"):
        next(table_read(path))


@pytest.mark.parametrize("part", [SHARED, SHEET])
def test_xxe_is_refused_and_nothing_of_the_entity_is_read(part):
    content = workbook([HEADER, ["shop", "L-1", "S-1"]])
    body = XXE if part == SHARED else XXE.replace("sst", "worksheet")
    with pytest.raises(
        FileRefused,
        match=r"expected an XLSX workbook, but cannot read it \(XlsxUnreadable: the workbook.s XML declares a DTD",
    ):
        read_all(with_member(content, part, body.encode()))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("truncated", workbook([HEADER])[:1500], r"expected an XLSX workbook, but the file is not one \(BadZipFile"),
        ("not a zip", b"channel,channel_sku\n", r"the file is not one \(BadZipFile: File is not a zip file\)"),
        ("malformed XML", None, r"expected an XLSX workbook, but cannot read it \((ParseError|ExpatError)"),
        ("no workbook part", None, r"cannot read it \(KeyError"),
    ],
)
def test_truncated_or_malformed_workbooks_are_refused_in_one_line(name, content, message):
    if name == "malformed XML":
        content = with_member(workbook([HEADER]), SHEET, b"<worksheet><sheetData><row><c>")
    if name == "no workbook part":
        source = io.BytesIO()
        with zipfile.ZipFile(source, "w") as archive:
            archive.writestr("hello.txt", "hi")
        content = source.getvalue()
    with pytest.raises(FileRefused, match=message) as refused:
        read_all(content)
    assert "\n" not in str(refused.value)


def test_a_csv_that_is_not_utf8_is_refused():
    with pytest.raises(FileRefused, match=r"expected a CSV file in UTF-8, but cannot read it \(UnicodeDecodeError"):
        read_all("channel,channel_sku\nshop,Café\n".encode("cp1252"), "csv")


def test_the_row_estimate_checks_the_archive_first(tmp_path):
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(bomb())
    with pytest.raises(FileRefused, match="zip bomb"):
        row_count_estimate(path)
