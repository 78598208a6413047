import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from catalog.models import Item, ItemMapping, MappingMethod, MappingStatus
from catalog.spreadsheets import COLUMNS
from tests.catalog import hostile
from tests.catalog.conftest import mapping_snapshot
from tests.factories import ChannelFactory, ItemFactory, ItemMappingFactory

pytestmark = pytest.mark.django_db
MANAGE = Path(settings.BASE_DIR) / "manage.py"


def import_mappings(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_mappings", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_imports_a_csv_and_prints_a_summary(channel, write_csv):
    item = ItemFactory()
    ItemMappingFactory(channel=channel, channel_sku="OLD")
    path = write_csv([["shop", "NEW", item.sku, "", "", "", "no"], ["shop", "OLD", "", item.upc, "", "", "no"]])
    out, _ = import_mappings(str(path))
    assert out == "mappings.csv: 1 new, 1 updated, 0 unchanged, 0 errors\nImported.\n"
    assert set(ItemMapping.objects.values_list("channel_sku", "item", "method")) == {
        ("NEW", item.pk, MappingMethod.IMPORT),
        ("OLD", item.pk, MappingMethod.IMPORT),
    }


def test_imports_an_xlsx(channel, tmp_path):
    item = ItemFactory()
    book = openpyxl.Workbook()
    book.active.append(list(COLUMNS))
    book.active.append(["shop", "L-1", item.sku, None, None, None, "yes"])
    path = tmp_path / "mappings.xlsx"
    book.save(path)
    import_mappings(str(path))
    mapping = ItemMapping.objects.get()
    assert (mapping.item, mapping.status) == (item, MappingStatus.IGNORED)


def test_bad_file_exits_1_lists_row_errors_and_imports_nothing(channel, write_csv):
    item = ItemFactory()
    ItemMappingFactory(channel=channel, channel_sku="OLD")
    before = mapping_snapshot()
    path = write_csv([["shop", "OLD", item.sku], ["shop", "L-2", "NOPE"], ["shop", "L-3", item.sku, "", "", "", "?"]])
    err = StringIO()
    with pytest.raises(CommandError, match="2 bad rows: nothing was imported") as raised:
        call_command("import_mappings", str(path), stdout=StringIO(), stderr=err)
    assert raised.value.returncode == 1
    assert err.getvalue() == "row 3: unknown item_sku NOPE\nrow 4: ignore must be yes or no, not '?'\n"
    assert mapping_snapshot() == before


def test_dry_run_changes_nothing(channel, write_csv):
    item = ItemFactory()
    path = write_csv([["shop", "L-1", item.sku]])
    out, _ = import_mappings(str(path), "--dry-run")
    assert out == "mappings.csv: 1 new, 0 updated, 0 unchanged, 0 errors\nDry run: nothing was written.\n"
    assert not ItemMapping.objects.exists()


def test_channel_option_fills_rows_without_a_channel(channel, write_csv):
    item = ItemFactory()
    ChannelFactory(slug="other")
    path = write_csv([["L-1", item.sku]], header=["channel_sku", "item_sku"])
    import_mappings(str(path), "--channel", "shop")
    assert ItemMapping.objects.get().channel == channel


def test_channel_option_refuses_rows_for_another_channel(channel, write_csv):
    item = ItemFactory()
    ChannelFactory(slug="other")
    path = write_csv([["other", "L-1", item.sku]])
    with pytest.raises(CommandError):
        import_mappings(str(path), "--channel", "shop")
    assert not ItemMapping.objects.exists()


def test_unknown_channel_option_is_refused(write_csv):
    with pytest.raises(CommandError, match="unknown channel nowhere"):
        import_mappings(str(write_csv([])), "--channel", "nowhere")


def test_other_file_types_are_refused(tmp_path):
    path = tmp_path / "mappings.txt"
    path.write_text("channel\n")
    with pytest.raises(CommandError, match=r"expected a \.csv or \.xlsx file"):
        import_mappings(str(path))


def test_progress_bar_on_large_files(channel, write_csv, capsys):
    rows = 10_000
    Item.objects.bulk_create(ItemFactory.build(sku=f"S{n}", upc=f"{n:012d}") for n in range(rows))
    path = write_csv([["shop", f"L-{n}", f"S{n}"] for n in range(rows)])
    out, _ = import_mappings(str(path))
    assert out.startswith("mappings.csv: 10000 new, 0 updated")
    progress = capsys.readouterr().err
    assert "checking rows: 100%" in progress
    assert "writing mappings" in progress


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("m.csv", "channel,channel_sku\nshop,Café\n".encode("cp1252"), "expected a CSV file in UTF-8"),
        ("m.xlsx", b"not a zip", "expected an XLSX workbook, but the file is not one"),
    ],
)
def test_unreadable_file_is_refused_without_writing(channel, tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CommandError, match=expected) as refused:
        import_mappings(str(path))
    assert refused.value.returncode == 1
    assert not ItemMapping.objects.exists()


HOSTILE = {
    "bomb": (hostile.bomb, "like a zip bomb"),
    "declared bomb": (hostile.declared_bomb, "IMPORT_MAX_UNCOMPRESSED_BYTES"),
    "truncated": (lambda: hostile.workbook([list(COLUMNS)])[:1500], "the file is not one (BadZipFile"),
    "malformed": (
        lambda: hostile.with_member(hostile.workbook([list(COLUMNS)]), hostile.SHEET, b"<worksheet><sheetData>"),
        "cannot read it (",
    ),
    "xxe": (
        lambda: hostile.with_member(hostile.workbook([list(COLUMNS)]), hostile.SHARED, hostile.XXE.encode()),
        "cannot read it (XlsxUnreadable: the workbook's XML declares a DTD",
    ),
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_workbook_is_one_line_on_stderr_and_exit_status_1_never_a_traceback(tmp_path, kind):
    make, expected = HOSTILE[kind]
    path = tmp_path / "mappings.xlsx"
    path.write_bytes(make())
    done = subprocess.run(
        [sys.executable, str(MANAGE), "import_mappings", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
    )
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"CommandError: {path}: expected an XLSX workbook") or "IMPORT_MAX" in line, line
    assert expected in line


def test_a_cell_with_a_nul_is_a_bad_row_and_nothing_is_written(channel, write_csv):
    item = ItemFactory()
    path = write_csv([["shop", "L-1", item.sku], ["shop", "L-\x002", item.sku]])
    err = StringIO()
    with pytest.raises(CommandError, match="1 bad rows: nothing was imported"):
        call_command("import_mappings", str(path), stdout=StringIO(), stderr=err)
    assert err.getvalue() == "row 3: channel_sku contains a control character (U+0000)\n"
    assert not ItemMapping.objects.exists()
