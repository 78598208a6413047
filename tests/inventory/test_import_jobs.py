"""Large stock-level and incoming-supply imports run in the background: the upload is queued as a django-q2 task,
the job's page follows its progress (refreshing itself) until the preview is ready, and the confirmation is
queued the same way. Here a queued task is run by calling its function (the suite's broker is the ORM; no
cluster), as a worker does; the real cluster runs it in test_import_cluster.py. A job is its owner's alone, on
its own screen, and its file is gone once it cannot go on."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import Item
from integrations.models import ImportStatus
from inventory.import_jobs import CHUNK_ROWS, JOB_TASK, job_run
from inventory.models import IncomingSupply, InventoryImport, InventoryImportKind, StockLevel
from tests.factories import ItemFactory
from tests.inventory.factories import InventoryImportFactory, StockLevelFactory, WarehouseFactory
from tests.orders.factories import UserFactory

pytestmark = pytest.mark.django_db

STOCK = b"item_sku,warehouse,on_hand,allocated,available,updated_at\nSKU-1,MAIN,4,0,4,\nSKU-2,MAIN,7,1,6,\n"


@pytest.fixture(autouse=True)
def background(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    settings.IMPORT_BACKGROUND_BYTES = 10  # every file of these tests is "large"


@pytest.fixture
def world():
    main = WarehouseFactory(code="MAIN")
    ItemFactory(sku="SKU-1")
    ItemFactory(sku="SKU-2")
    return main


def upload(client, content: bytes, model: str = "stocklevel", name: str = "stock.csv"):
    data = {"format": "0", "resource": "0", "import_file": SimpleUploadedFile(name, content)}
    return client.post(reverse(f"admin:inventory_{model}_import"), data, follow=True)


def job_url(job: InventoryImport, action: str = "") -> str:
    return reverse(f"admin:inventory_{job.kind}_import_{action or 'job'}", args=[job.pk])


def stored_files(settings) -> list[Path]:
    folder = Path(settings.IMPORT_UPLOAD_DIR)
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def run_queued(queued_tasks) -> None:
    """What a worker does: run each queued task's function (the broker's queue is left as it is)."""
    for task in queued_tasks():
        assert task["func"] == JOB_TASK
        job_run(*task["args"])


def test_a_large_file_is_checked_in_the_background_and_its_page_follows_it(
    admin_client, world, queued_tasks, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(admin_client, STOCK)
    job = InventoryImport.objects.get()
    page = response.content.decode()
    assert (job.status, job.kind) == (ImportStatus.QUEUED, InventoryImportKind.STOCK)
    assert '<meta http-equiv="refresh" content="2">' in page and "Waiting for a worker" in page
    assert [task["args"] for task in queued_tasks()] == [(job.pk, "check")]
    assert len(stored_files(settings)) == 1

    run_queued(queued_tasks)

    page = admin_client.get(job_url(job)).content.decode()
    assert "2 new, 0 updated, 0 unchanged" in page and "Confirm import" in page
    assert 'http-equiv="refresh"' not in page
    assert not StockLevel.objects.exists()
    job.refresh_from_db()
    assert (job.rows_done, job.rows_total) == (2, 2)
    assert [change["row"] for change in job.preview] == [2, 3]


def test_the_confirmed_import_is_written_in_the_background_once_and_its_file_deleted(
    admin_client, world, queued_tasks, django_capture_on_commit_callbacks, settings
):
    StockLevelFactory(item=Item.objects.get(sku="SKU-1"), warehouse=world, on_hand=1, allocated=0, available=1)
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, STOCK)
    run_queued(queued_tasks)
    job = InventoryImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(job_url(job, "confirm"), follow=True)
    assert response.redirect_chain == [(job_url(job), 302)]
    assert "Confirmed: waiting to be written" in response.content.decode()
    assert [task["args"] for task in queued_tasks()][-1] == (job.pk, "write")
    assert StockLevel.objects.get(item__sku="SKU-1").on_hand == 1

    job_run(job.pk, "write")
    job_run(job.pk, "write")  # delivered twice: the second finds nothing to do

    page = admin_client.get(job_url(job)).content.decode()
    assert "Imported: 1 new, 1 updated, 0 unchanged." in page
    assert sorted(StockLevel.objects.values_list("item__sku", "on_hand")) == [("SKU-1", 4), ("SKU-2", 7)]
    assert stored_files(settings) == []


def test_the_page_shows_how_far_a_running_check_has_got(admin_client, admin_user):
    job = InventoryImportFactory(owner=admin_user, status=ImportStatus.CHECKING, rows_done=40_000, rows_total=100_000)
    page = admin_client.get(job_url(job)).content.decode()
    assert "40000 of about 100000 rows checked (40%)" in page
    assert '<progress value="40000" max="100000">' in page and 'http-equiv="refresh"' in page
    assert "Cancel" not in page  # a running job is not cancelled under the worker


def test_a_job_cancelled_while_queued_is_never_run_and_its_file_is_deleted(
    admin_client, world, queued_tasks, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, STOCK)
    job = InventoryImport.objects.get()
    response = admin_client.post(job_url(job, "cancel"), follow=True)
    assert "cancelled: nothing was imported" in response.content.decode()
    assert stored_files(settings) == []
    run_queued(queued_tasks)
    job.refresh_from_db()
    assert (job.status, job.new) == (ImportStatus.CANCELLED, 0)
    assert not StockLevel.objects.exists()


def test_a_file_with_bad_rows_is_refused_in_the_background_and_leaves_no_file(
    admin_client, world, queued_tasks, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, STOCK + b"NOPE,MAIN,1,0,1,\n")
    run_queued(queued_tasks)
    job = InventoryImport.objects.get()
    assert job.status == ImportStatus.REJECTED
    assert job.errors == [
        {"row": 4, "message": "item_sku: no item with sku 'NOPE'", "values": list(job.errors[0]["values"])}
    ]
    assert stored_files(settings) == [] and not StockLevel.objects.exists()
    page = admin_client.get(job_url(job)).content.decode()
    assert "1 bad row: nothing was imported" in page and "Confirm import" not in page


@pytest.mark.parametrize("action", ["", "confirm", "cancel"])
def test_another_users_job_is_not_found_and_left_alone(client, action):
    mapper = UserFactory(is_staff=True, is_superuser=True)
    job = InventoryImportFactory()  # someone else's, waiting for its owner's confirmation
    client.force_login(mapper)
    method = client.get if not action else client.post
    assert method(job_url(job, action)).status_code == 404
    job.refresh_from_db()
    assert job.status == ImportStatus.READY


def test_a_stock_job_is_not_found_on_the_supply_screen(admin_client, admin_user):
    job = InventoryImportFactory(owner=admin_user, kind=InventoryImportKind.STOCK)
    url = reverse("admin:inventory_incomingsupply_import_job", args=[job.pk])
    assert admin_client.get(url).status_code == 404


def test_a_file_of_many_chunks_lists_bad_rows_by_their_file_row_and_writes_nothing(world, admin_user):
    """Rows are imported a chunk at a time: row numbers, a key repeated across chunks and the rollback of the
    chunks already written all hold for the file as a whole."""
    rows = [f"SKU-{n},MAIN,{n},0,{n}," for n in range(3, 2 * CHUNK_ROWS + 100)]
    Item.objects.bulk_create([ItemFactory.build(sku=row.split(",")[0]) for row in rows])
    rows.append("SKU-3,MAIN,1,0,1,")  # a key of the first chunk again, in the third
    rows.append("SKU-4,MAIN,x,0,1,")
    content = "item_sku,warehouse,on_hand,allocated,available,updated_at\n" + "\n".join(rows) + "\n"
    job = InventoryImportFactory(owner=admin_user, status=ImportStatus.CONFIRMED, size=len(content))
    job.upload.save("big.csv", SimpleUploadedFile("big.csv", content.encode()))
    job_run(job.pk, "write")
    job.refresh_from_db()
    last = len(rows) + 1  # the header is row 1
    assert (job.status, job.error_count) == (ImportStatus.REJECTED, 2)
    assert [(e["row"], e["message"]) for e in job.errors] == [
        (last - 1, "repeats row 2 (the same item_sku, warehouse)"),
        (last, "on_hand: 'x' is not a whole number"),
    ]
    assert not StockLevel.objects.exists()  # the first two chunks were good, and are rolled back


def test_an_incoming_supply_file_goes_to_the_background_too(
    admin_client, world, queued_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(
            admin_client,
            b"item_sku,warehouse,purchase_order,quantity,expected_date\nSKU-1,MAIN,PO-1,5,\n",
            "incomingsupply",
        )
    job = InventoryImport.objects.get()
    assert job.kind == InventoryImportKind.SUPPLY
    run_queued(queued_tasks)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(job_url(job, "confirm"))
    run_queued(queued_tasks)
    assert IncomingSupply.objects.get().quantity == 5
