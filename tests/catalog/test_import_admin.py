"""The mapping screen's import, as jobs: upload, the job's page (preview or bad rows), confirm, cancel; the file
checked against the limits; and the confirmation bound to a job its owner holds, never to a file name."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from access.roles import MAPPING_STAFF, VIEWER
from catalog.import_preview import STOPS
from catalog.models import ImportStatus, Item, ItemMapping, MappingImport, MappingMethod, MappingStatus
from tests.catalog import hostile
from tests.catalog.conftest import mapping_snapshot
from tests.factories import ItemFactory, ItemMappingFactory, MappingImportFactory
from tests.orders.factories import UserFactory

pytestmark = pytest.mark.django_db

IMPORT = "/admin/catalog/itemmapping/import/"
CSV_FORMAT, XLSX_FORMAT = "0", "1"  # import_formats order
CSV = b"channel,channel_sku,item_sku\nshop,L-1,ITEM-1\nshop,L-2,ITEM-1\n"


def upload(client, content: bytes, name: str = "mappings.csv", file_format: str = CSV_FORMAT, **extra):
    data = {"format": file_format, "resource": "0", "import_file": SimpleUploadedFile(name, content), **extra}
    return client.post(IMPORT, data, follow=True)


def job_url(job: MappingImport, action: str = "") -> str:
    return reverse(f"admin:catalog_itemmapping_import_{action or 'job'}", args=[job.pk])


def stored_files(settings) -> list[Path]:
    folder = Path(settings.IMPORT_UPLOAD_DIR)
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture(autouse=True)
def uploads(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"


def test_import_preview_then_confirm(admin_client, channel, settings):
    item = ItemFactory(sku="ITEM-1")
    response = upload(admin_client, CSV)
    job = MappingImport.objects.get()
    assert response.redirect_chain == [(job_url(job), 302)]
    page = response.content.decode()
    assert re.search(r"2 new, 0 updated, 0 unchanged", page) and "Confirm import" in page
    assert not ItemMapping.objects.exists()  # the preview writes nothing
    assert len(stored_files(settings)) == 1  # kept for the confirmation
    response = admin_client.post(job_url(job, "confirm"), follow=True)
    assert "Import finished: 2 new, 0 updated, 0 unchanged." in response.content.decode()
    assert set(ItemMapping.objects.values_list("channel_sku", "item", "method")) == {
        ("L-1", item.pk, MappingMethod.IMPORT),
        ("L-2", item.pk, MappingMethod.IMPORT),
    }
    job.refresh_from_db()
    assert (job.status, job.new, job.upload.name) == (ImportStatus.DONE, 2, "")
    assert stored_files(settings) == []


def test_a_confirmation_posted_twice_writes_once(admin_client, channel):
    ItemFactory(sku="ITEM-1")
    upload(admin_client, CSV)
    job = MappingImport.objects.get()
    admin_client.post(job_url(job, "confirm"))
    ItemMapping.objects.all().delete()
    response = admin_client.post(job_url(job, "confirm"), follow=True)
    assert "cannot be confirmed: it is imported" in response.content.decode()
    assert not ItemMapping.objects.exists()


def test_import_preview_shows_each_listing_before_and_after_and_flags_what_stops_stock_and_orders(
    admin_client, channel
):
    old, new = ItemFactory(sku="ITEM-OLD"), ItemFactory(sku="ITEM-NEW")
    ItemMappingFactory(channel=channel, channel_sku="L-MOVE", item=old, status=MappingStatus.MAPPED)
    ItemMappingFactory(channel=channel, channel_sku="L-STOP", item=old, status=MappingStatus.MAPPED)
    ItemMappingFactory(channel=channel, channel_sku="L-OPEN", item=None, status=MappingStatus.UNMAPPED)
    csv = b"channel,channel_sku,item_sku,ignore\nshop,L-MOVE,ITEM-NEW,\nshop,L-STOP,,yes\nshop,L-OPEN,ITEM-NEW,\n"

    page = upload(admin_client, csv).content.decode()

    rows = re.findall(r'<tr class="update( stops)?">(.*?)</tr>', page, re.S)
    text = {re.sub(r"\s+", " ", re.sub("<[^>]+>", " ", cells)).strip(): bool(flag) for flag, cells in rows}
    assert text == {
        "2 Update L-MOVE on shop mapped to ITEM-OLD → mapped to ITEM-NEW": False,
        f"3 Update L-STOP on shop mapped to ITEM-OLD → ignored ⚠ {STOPS}": True,
        "4 Update L-OPEN on shop unmapped → mapped to ITEM-NEW": False,
    }
    assert "1 change stops a mapped listing" in page
    assert new.pk and ItemMapping.objects.get(channel_sku="L-STOP").status == MappingStatus.MAPPED  # nothing written


def test_bad_rows_are_listed_no_confirm_is_offered_and_no_file_is_left(admin_client, channel, settings):
    ItemFactory(sku="ITEM-1")
    before = mapping_snapshot()
    page = upload(admin_client, b"channel,channel_sku,item_sku\nshop,L-1,ITEM-1\nshop,L-2,NOPE\n").content.decode()
    assert "1 bad row: nothing was imported" in page
    assert "<td>3</td>" in page and "unknown item_sku NOPE" in page
    assert "Confirm import" not in page
    job = MappingImport.objects.get()
    assert job.status == ImportStatus.REJECTED
    assert admin_client.post(job_url(job, "confirm")).status_code == 302
    assert mapping_snapshot() == before
    assert stored_files(settings) == []  # a rejected preview leaves no file behind


def test_import_of_an_xlsx(admin_client, channel):
    item = ItemFactory(sku="ITEM-1")
    upload(admin_client, hostile.workbook([["channel", "channel_sku", "item_sku"], ["shop", "L-1", "ITEM-1"]]),
           "mappings.xlsx", XLSX_FORMAT)  # fmt: skip
    admin_client.post(job_url(MappingImport.objects.get(), "confirm"))
    assert ItemMapping.objects.get().item == item


def test_import_preview_queries_do_not_grow_with_rows(admin_client, channel):
    ItemFactory.create_batch(200)
    skus = list(Item.objects.values_list("sku", flat=True))

    def preview(count: int) -> int:
        lines = "".join(f"shop,L-{n},{sku}\n" for n, sku in enumerate(skus[:count]))
        with CaptureQueriesContext(connection) as context:
            response = upload(admin_client, f"channel,channel_sku,item_sku\n{lines}".encode())
        assert f"{count} new" in response.content.decode()
        return len(context)

    assert preview(1) == preview(200)


def test_import_takes_the_format_from_the_extension_when_none_is_chosen(admin_client, channel):
    item = ItemFactory(sku="ITEM-1")
    content = hostile.workbook([["channel", "channel_sku", "item_sku"], ["shop", "L-1", "ITEM-1"]])
    assert "1 new, 0 updated" in upload(admin_client, content, "mappings.xlsx", "").content.decode()
    admin_client.post(job_url(MappingImport.objects.get(), "confirm"))
    assert ItemMapping.objects.get().item == item
    page = upload(admin_client, b"channel,channel_sku\n", "mappings.txt", "").content.decode()
    assert "Choose a format: the file&#x27;s name does not end in .csv or .xlsx." in page


@pytest.mark.parametrize(
    ("content", "name", "file_format", "message"),
    [
        (b"not a zip", "mappings.xlsx", XLSX_FORMAT, "Nothing imported: expected an XLSX workbook, but the file is"),
        (hostile.workbook([["channel"]]), "mappings.csv", CSV_FORMAT, "Nothing imported: expected a CSV file in UTF-8"),
        (hostile.bomb(), "mappings.xlsx", "", "the workbook&#x27;s part xl/sharedStrings.xml is compressed"),
        (hostile.declared_bomb(), "mappings.xlsx", "", "IMPORT_MAX_UNCOMPRESSED_BYTES"),
    ],
)
def test_import_says_which_format_it_expected_and_why_the_file_was_refused(
    admin_client, channel, settings, content, name, file_format, message
):
    page = upload(admin_client, content, name, file_format).content.decode()
    assert message in page
    assert "encountered" not in page and "Confirm import" not in page
    assert MappingImport.objects.get().status == ImportStatus.REJECTED
    assert not ItemMapping.objects.exists()
    assert stored_files(settings) == []


def test_import_refuses_a_file_over_the_upload_limit(admin_client, channel, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 10
    page = upload(admin_client, b"channel,channel_sku\nshop,L-1\n").content.decode()
    assert "Not imported: the file is 29 bytes; the limit is 10 bytes (IMPORT_MAX_UPLOAD_BYTES)." in page
    assert not MappingImport.objects.exists() and stored_files(settings) == []


def test_import_lists_a_cell_with_a_nul_as_a_bad_row(admin_client, channel):
    ItemFactory(sku="ITEM-1")
    page = upload(admin_client, b"channel,channel_sku,item_sku\nshop,L-1,ITEM-1\nshop,L-\x002,ITEM-1\n")
    text = page.content.decode()
    assert "1 bad row: nothing was imported" in text
    assert "<td>3</td>" in text and "channel_sku contains a control character (U+0000)" in text
    assert "L-\\x002" in text  # the value shown with its NUL written out
    assert not ItemMapping.objects.exists()


def test_the_confirmation_takes_no_file_name_from_the_form(admin_client, channel, settings, tmp_path):
    ItemFactory(sku="ITEM-1")
    other = tmp_path / "someone-elses.csv"
    other.write_bytes(b"channel,channel_sku,item_sku\nshop,EVIL,ITEM-1\n")
    upload(admin_client, CSV)
    job = MappingImport.objects.get()
    admin_client.post(job_url(job, "confirm"), {"import_file_name": str(other), "original_file_name": "x.csv"})
    assert sorted(ItemMapping.objects.values_list("channel_sku", flat=True)) == ["L-1", "L-2"]
    assert other.exists()  # neither read nor deleted
    with pytest.raises(NoReverseMatch):  # the library's confirmation, which named a temp file, is gone
        reverse("admin:catalog_itemmapping_process_import")


def test_another_users_job_is_not_found(client, channel, settings):
    ItemFactory(sku="ITEM-1")
    owner, other = UserFactory(username="owner"), UserFactory(username="other")
    for user in (owner, other):
        user.groups.add(Group.objects.get(name=MAPPING_STAFF))
    client.force_login(owner)
    upload(client, CSV)
    job = MappingImport.objects.get()
    client.force_login(other)
    for url, method in [(job_url(job), "get"), (job_url(job, "confirm"), "post"), (job_url(job, "cancel"), "post")]:
        assert getattr(client, method)(url).status_code == 404, url
    job.refresh_from_db()
    assert job.status == ImportStatus.READY and len(stored_files(settings)) == 1


def test_a_viewer_may_not_see_even_their_own_job(client):
    viewer = UserFactory(username="viewer")
    viewer.groups.add(Group.objects.get(name=VIEWER))
    job = MappingImportFactory(owner=viewer)
    client.force_login(viewer)
    assert client.get(job_url(job)).status_code == 403
    assert client.post(job_url(job, "confirm")).status_code == 403


def test_cancel_deletes_the_file_and_imports_nothing(admin_client, channel, settings):
    ItemFactory(sku="ITEM-1")
    upload(admin_client, CSV)
    job = MappingImport.objects.get()
    response = admin_client.post(job_url(job, "cancel"), follow=True)
    assert "cancelled: nothing was imported" in response.content.decode()
    job.refresh_from_db()
    assert (job.status, job.upload.name) == (ImportStatus.CANCELLED, "")
    assert stored_files(settings) == []
    admin_client.post(job_url(job, "confirm"))
    assert not ItemMapping.objects.exists()


def test_the_import_page_lists_your_recent_imports_only(admin_client, channel):
    MappingImportFactory(owner=UserFactory(username="someone"), file_name="theirs.csv")
    upload(admin_client, CSV, "mine.csv")
    page = admin_client.get(IMPORT).content.decode()
    assert "mine.csv" in page and "theirs.csv" not in page
