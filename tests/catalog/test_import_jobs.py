"""Large mapping imports run in the background: the upload is queued as a django-q2 task, the job's page follows
its progress (refreshing itself) until the preview is ready, and the confirmation is queued the same way. Here
the queued task is run by calling its function (the suite's broker is the ORM; no cluster); the real cluster runs
it in test_import_cluster.py."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from catalog.import_jobs import JOB_TASK, job_run, jobs_expire
from catalog.models import ImportStatus, ItemMapping, MappingImport
from tests.catalog.test_import_admin import CSV, job_url, stored_files, upload
from tests.factories import ItemFactory, MappingImportFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def background(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    settings.IMPORT_BACKGROUND_BYTES = 10  # every file of these tests is "large"


def run_queued(queued_tasks) -> None:
    """What a worker does: run each queued task's function (the broker's queue is left as it is)."""
    for task in queued_tasks():
        assert task["func"] == JOB_TASK
        job_run(*task["args"])


def test_a_large_file_is_checked_in_the_background_and_its_page_follows_it(
    admin_client, channel, queued_tasks, django_capture_on_commit_callbacks
):
    ItemFactory(sku="ITEM-1")
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(admin_client, CSV)
    job = MappingImport.objects.get()
    page = response.content.decode()
    assert job.status == ImportStatus.QUEUED
    assert '<meta http-equiv="refresh" content="2">' in page and "Waiting for a worker" in page
    assert [task["args"] for task in queued_tasks()] == [(job.pk, "check")]

    run_queued(queued_tasks)

    page = admin_client.get(job_url(job)).content.decode()
    assert "2 new, 0 updated, 0 unchanged" in page and "Confirm import" in page
    assert 'http-equiv="refresh"' not in page
    assert not ItemMapping.objects.exists()


def test_the_confirmed_import_is_written_in_the_background(
    admin_client, channel, queued_tasks, django_capture_on_commit_callbacks, settings
):
    ItemFactory(sku="ITEM-1")
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, CSV)
    run_queued(queued_tasks)
    job = MappingImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(job_url(job, "confirm"), follow=True)
    assert response.redirect_chain == [(job_url(job), 302)]
    assert "Confirmed: waiting to be written" in response.content.decode()
    assert not ItemMapping.objects.exists()
    assert [task["args"] for task in queued_tasks()][-1] == (job.pk, "write")

    job_run(job.pk, "write")
    job_run(job.pk, "write")  # delivered twice: the second finds nothing to do

    page = admin_client.get(job_url(job)).content.decode()
    assert "Imported: 2 new, 0 updated, 0 unchanged." in page
    assert ItemMapping.objects.count() == 2 and stored_files(settings) == []


def test_the_page_shows_how_far_a_running_check_has_got(admin_client, admin_user):
    job = MappingImportFactory(owner=admin_user, status=ImportStatus.CHECKING, rows_done=40_000, rows_total=100_000)
    page = admin_client.get(job_url(job)).content.decode()
    assert "40000 of about 100000 rows checked (40%)" in page
    assert '<progress value="40000" max="100000">' in page and 'http-equiv="refresh"' in page
    assert "Cancel" not in page  # a running job is not cancelled under the worker


def test_a_job_cancelled_while_queued_is_never_run(
    admin_client, channel, queued_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, CSV)
    job = MappingImport.objects.get()
    admin_client.post(job_url(job, "cancel"))
    run_queued(queued_tasks)
    job.refresh_from_db()
    assert (job.status, job.new) == (ImportStatus.CANCELLED, 0)


def test_a_stored_file_that_is_gone_fails_the_job_with_a_reason():
    job = MappingImportFactory(status=ImportStatus.QUEUED)
    job_run(job.pk, "check")
    job.refresh_from_db()
    assert job.status == ImportStatus.REJECTED
    assert job.message == "Nothing imported: the uploaded file is no longer here; upload it again."


def test_previews_left_unconfirmed_are_expired_with_their_files(settings):
    fresh, stale = MappingImportFactory(), MappingImportFactory()
    for job in (fresh, stale):
        job.upload.save(f"{job.pk}.csv", ContentFile(CSV))
    MappingImport.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - timedelta(hours=25))
    assert jobs_expire() == 1
    stale.refresh_from_db()
    assert (stale.status, stale.upload.name) == (ImportStatus.CANCELLED, "")
    assert [Path(p).name for p in stored_files(settings)] == [f"{fresh.pk}.csv"]


def test_the_upload_is_stored_under_a_name_of_our_own(admin_client, channel, settings):
    upload(admin_client, CSV, "../../etc/evil\x07name.csv")
    job = MappingImport.objects.get()
    assert job.file_name == "evilname.csv"  # only the name, without its control character
    (stored,) = stored_files(settings)
    assert stored.parent == Path(settings.IMPORT_UPLOAD_DIR) / "mappings" and "evil" not in stored.name
    assert reverse("admin:catalog_itemmapping_import_job", args=[job.pk]) == job_url(job)


def test_deleting_the_owner_deletes_their_jobs_files(settings):
    job = MappingImportFactory()
    job.upload.save("x.csv", ContentFile(CSV))
    assert len(stored_files(settings)) == 1
    job.owner.delete()
    assert not MappingImport.objects.exists() and stored_files(settings) == []
