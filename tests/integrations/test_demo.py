"""`manage.py demo --once`, what `make demo` runs before it serves the admin: every flow against the sandboxes."""

import io

import pytest
from django.core.management import call_command

from integrations.models import SyncRun
from orders.models import OrderEvent, ShipmentUpload, UploadState

pytestmark = pytest.mark.django_db


def test_demo_once_runs_every_flow_and_ships_and_corrects_shipments_on_the_channels():
    out = io.StringIO()

    call_command("demo", once=True, stdout=out)

    assert not SyncRun.objects.filter(status=SyncRun.Status.FAILED).exists(), out.getvalue()
    uploads = ShipmentUpload.objects.all()
    assert uploads.exists() and not uploads.exclude(state=UploadState.SENT).exists()
    assert OrderEvent.objects.filter(message__contains="tracking corrected to").count() == 1
    assert "shipments.upload" in out.getvalue()


def test_every_run_of_a_demo_cycle_adds_up():
    call_command("demo", once=True, stdout=io.StringIO())
    counts = SyncRun.objects.values_list("channel__slug", "flow", "seen", "created", "updated", "skipped", "failed",
                                         "unknown", "note")  # fmt: skip
    assert [
        row
        for row in counts
        if row[2] != sum(row[3:8]) and not row[8]  # a note says where the rest went
    ] == []
