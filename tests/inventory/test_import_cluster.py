"""A large stock-level import on the real django-q2 cluster: the upload's check and the confirmed write each run as
a task in `manage.py qcluster` (a child process on this test's database and upload folder), not in the request."""

import pytest

from catalog.models import Item
from integrations.models import ImportStatus
from inventory.models import InventoryImport, StockLevel
from tests.catalog.test_import_cluster import wait_for_status
from tests.factories import ItemFactory
from tests.integrations.test_cluster import cluster  # noqa: F401  (the fixture)
from tests.inventory.factories import WarehouseFactory
from tests.inventory.test_import_jobs import job_url, upload

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]
ROWS = 3000


def test_a_large_stock_import_is_checked_and_written_by_the_cluster(admin_client, settings, cluster):  # noqa: F811
    settings.IMPORT_BACKGROUND_BYTES = 1000  # this file (about 80 KB) is "large"; the cluster has its own settings
    WarehouseFactory(code="MAIN")
    items = Item.objects.bulk_create([ItemFactory.build(sku=f"SKU-{n}") for n in range(ROWS)])
    lines = "".join(f"{item.sku},MAIN,{n},0,{n},\n" for n, item in enumerate(items))
    response = upload(admin_client, f"item_sku,warehouse,on_hand,allocated,available,updated_at\n{lines}".encode())
    job = InventoryImport.objects.get()
    assert job.running and 'http-equiv="refresh"' in response.content.decode()  # answered before the check ran

    assert wait_for_status(job, 90) == ImportStatus.READY, job.message
    assert (job.new, job.rows_done, StockLevel.objects.count()) == (ROWS, ROWS, 0)

    admin_client.post(job_url(job, "confirm"))
    assert wait_for_status(job, 90) == ImportStatus.DONE, job.message
    assert StockLevel.objects.count() == ROWS
    assert job.upload.name == ""
    assert cluster.poll() is None
