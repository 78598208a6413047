"""The import confirmation reads only the file this user's preview wrote (integrations/import_confirm.py), shown
on the stock-level import: a forged or another user's file name is refused without reading or deleting the file,
a second confirmation is refused cleanly, and a preview with errors leaves no file behind."""

import os
import tempfile
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from integrations.import_confirm import EXPIRED
from inventory.models import StockLevel
from tests.factories import ItemFactory
from tests.inventory.factories import WarehouseFactory
from tests.permissions.conftest import role_client

pytestmark = pytest.mark.django_db
IMPORT, CONFIRM = "admin:inventory_stocklevel_import", "admin:inventory_stocklevel_process_import"
GOOD = b"item_sku,warehouse,on_hand,allocated,available,updated_at\nSKU-1,MAIN,4,0,4,\n"


@pytest.fixture
def world():
    WarehouseFactory(code="MAIN")
    ItemFactory(sku="SKU-1")


@pytest.fixture
def victim():
    """A file in the temporary directory that no preview of this user wrote (another upload, or anything)."""
    handle, path = tempfile.mkstemp(prefix="victim-")
    os.write(handle, GOOD)
    os.close(handle)
    yield Path(path)
    Path(path).unlink(missing_ok=True)


def preview(client, data: bytes = GOOD):
    upload = SimpleUploadedFile("stock.csv", data)
    return client.post(reverse(IMPORT), {"format": "0", "resource": "0", "import_file": upload})


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_a_preview_then_its_confirmation_imports(admin_client, world):
    confirm = preview(admin_client).context["confirm_form"].initial
    assert not Path(tempfile.gettempdir(), confirm["import_file_name"]).exists()  # signed, not a bare name
    assert admin_client.post(reverse(CONFIRM), confirm).status_code == 302
    assert StockLevel.objects.get().on_hand == 4


@pytest.mark.parametrize("forged", ["name", "signed_elsewhere"])
def test_a_confirmation_naming_another_file_is_refused_and_the_file_is_neither_read_nor_deleted(
    admin_client, world, victim, forged
):
    confirm = dict(preview(admin_client).context["confirm_form"].initial)
    confirm["import_file_name"] = victim.name
    if forged == "signed_elsewhere":  # a preview name signed for another user
        other = role_client("superuser")
        signed = preview(other).context["confirm_form"].initial["import_file_name"]
        confirm["import_file_name"] = signed

    response = admin_client.post(reverse(CONFIRM), confirm, follow=True)

    assert EXPIRED in said(response) and not StockLevel.objects.exists()
    assert victim.read_bytes() == GOOD


def test_a_second_confirmation_is_refused_cleanly(admin_client, world):
    confirm = preview(admin_client).context["confirm_form"].initial
    admin_client.post(reverse(CONFIRM), confirm)
    assert EXPIRED in said(admin_client.post(reverse(CONFIRM), confirm, follow=True))


def test_a_preview_with_errors_leaves_no_file_behind(admin_client, world, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the previews' directory, to ourselves
    assert preview(admin_client).context["confirm_form"] and len(list(tmp_path.iterdir())) == 1  # kept to confirm
    response = preview(admin_client, GOOD + b"SKU-1,NOWHERE,1,0,1,\n")
    assert response.context["result"].has_validation_errors()
    assert len(list(tmp_path.iterdir())) == 1  # the refused preview's file is gone


def test_a_confirmation_without_the_import_permission_is_forbidden(world):
    assert role_client("viewer").post(reverse(CONFIRM), {"import_file_name": "x"}).status_code == 403
