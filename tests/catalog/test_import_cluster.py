"""A large mapping import on the real django-q2 cluster: the upload's check and the confirmed write each run as a
task in `manage.py qcluster` (a child process on this test's database and upload folder), not in the request."""

import time

import pytest

from catalog.models import ImportStatus, ItemMapping, MappingImport
from tests.catalog.test_import_admin import job_url, upload
from tests.factories import ChannelFactory, ItemFactory
from tests.integrations.test_cluster import cluster  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]
ROWS = 3000


def wait_for_status(job: MappingImport, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if not job.running:
            return job.status
        time.sleep(0.5)
    return job.status


def test_a_large_import_is_checked_and_written_by_the_cluster(admin_client, settings, cluster):  # noqa: F811
    settings.IMPORT_BACKGROUND_BYTES = 1000  # this file (about 60 KB) is "large"; the cluster has its own settings
    ChannelFactory(slug="shop")
    items = ItemFactory.create_batch(ROWS)
    lines = "".join(f"shop,L-{n},{item.sku}\n" for n, item in enumerate(items))
    response = upload(admin_client, f"channel,channel_sku,item_sku\n{lines}".encode())
    job = MappingImport.objects.get()
    assert job.running and 'http-equiv="refresh"' in response.content.decode()  # answered before the check ran

    assert wait_for_status(job, 90) == ImportStatus.READY, job.message
    assert (job.new, job.rows_done, ItemMapping.objects.count()) == (ROWS, ROWS, 0)

    admin_client.post(job_url(job, "confirm"))
    assert wait_for_status(job, 90) == ImportStatus.DONE, job.message
    assert ItemMapping.objects.count() == ROWS
    assert job.upload.name == ""
    assert cluster.poll() is None
