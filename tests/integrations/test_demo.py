"""`manage.py demo`: `--once` builds the demo world (what `make demo` builds before it serves the admin) with one
example of everything a person must handle; the served demo prints its banner and stops cleanly on Ctrl-C; and
what keeps the demo out of a real deployment (DEBUG off) and away from existing logins."""

import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.request import urlopen

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import F

from catalog.models import ItemMapping, MappingStatus
from integrations.demo import DEMO_USERNAME, HELD_ORDER, RUN_REFUSAL, SUBMIT_REFUSAL, UPLOAD_REFUSAL, demo_login_ensure
from integrations.management.commands.demo import Command as DemoCommand
from integrations.models import Channel, SyncRun
from inventory.models import Discrepancy
from orders.models import Order, OrderEvent, OrderStatus, Shipment, ShipmentUpload, UploadState
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db
MANAGE = Path(settings.BASE_DIR) / "manage.py"


@pytest.fixture
def demo_once(settings):
    settings.DEBUG = True  # as `make demo` runs it
    out = io.StringIO()
    call_command("demo", once=True, stdout=out)
    return out.getvalue()


def test_demo_once_runs_every_flow_and_ships_and_corrects_shipments_on_the_channels(demo_once):
    failed = SyncRun.objects.filter(status=SyncRun.Status.FAILED)
    assert list(failed.values_list("flow", flat=True)) == ["orders.download"], demo_once  # the staged one only
    assert ShipmentUpload.objects.filter(state=UploadState.SENT).count() >= 10
    assert OrderEvent.objects.filter(message__contains="tracking corrected to").count() == 1
    assert "Shipment upload" in demo_once
    # The clock: no order submitted or shipped before it was placed.
    assert not Shipment.objects.filter(shipped_at__lt=F("order__placed_at")).exists()
    assert not Order.objects.filter(submitted_at__lt=F("placed_at")).exists()
    assert not Shipment.objects.filter(shipped_at__lt=F("order__submitted_at")).exists()


def test_the_demo_world_has_one_example_of_everything_a_person_must_handle(demo_once):
    # (one world built for all six: building it takes most of this test's time)
    held = Order.objects.get(number=HELD_ORDER)
    assert held.status == OrderStatus.HELD and "NOPE-404" in held.hold_detail
    assert SUBMIT_REFUSAL in Order.objects.get(status=OrderStatus.FAILED).last_error
    upload = ShipmentUpload.objects.select_related("channel").get(state=UploadState.FAILED)
    assert UPLOAD_REFUSAL in upload.last_error and upload.channel.kind == "extensiv"
    discrepancy = Discrepancy.objects.get()
    assert discrepancy.channel_quantity - discrepancy.hub_quantity == 7
    run = SyncRun.objects.get(status=SyncRun.Status.FAILED)
    assert RUN_REFUSAL in run.error and "{" not in run.error and "[staged by the demo]" in demo_once
    assert ItemMapping.objects.filter(status=MappingStatus.CONFLICT).exists()


def test_demo_refuses_to_run_with_debug_off_unless_forced(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match=r"DEBUG is off.*Run it with DEBUG=1 .*or pass --force"):
        call_command("demo", once=True, stdout=io.StringIO())

    assert not Channel.objects.exists()


def test_the_demo_login_gets_the_demo_password(settings):
    settings.DEMO_PASSWORD = "demo-pass-1234"

    said = DemoCommand()._login()

    user = get_user_model().objects.get(username=DEMO_USERNAME)
    assert user.is_superuser and user.check_password("demo-pass-1234")
    assert said == "admin / the password in DEMO_PASSWORD"


def test_the_demo_login_without_demo_password_gets_a_random_one_that_is_printed(settings):
    settings.DEMO_PASSWORD = ""

    password = DemoCommand()._login().split("admin / ")[1]

    assert get_user_model().objects.get(username=DEMO_USERNAME).check_password(password)


def test_the_demo_never_resets_an_existing_users_password_or_role(settings):
    existing = get_user_model().objects.create_user(username=DEMO_USERNAME, password="someone-chose-this")
    settings.DEMO_PASSWORD = "demo-pass-1234"

    said = DemoCommand()._login()

    existing.refresh_from_db()
    assert existing.check_password("someone-chose-this")
    assert not existing.is_staff and not existing.is_superuser
    assert "already existed: its password is unchanged" in said
    assert demo_login_ensure(username=DEMO_USERNAME, password="x") is False


def test_running_the_demo_again_builds_the_same_world(demo_once):
    counts = (Order.objects.count(), Shipment.objects.count(), SyncRun.objects.count(), Discrepancy.objects.count())

    call_command("demo", once=True, stdout=io.StringIO())

    again = (Order.objects.count(), Shipment.objects.count(), SyncRun.objects.count(), Discrepancy.objects.count())
    assert again == counts
    assert not Shipment.objects.filter(shipped_at__lt=F("order__placed_at")).exists()


def test_the_demo_refuses_to_reset_a_database_with_channels_of_its_own(settings):
    settings.DEBUG = True
    ChannelFactory(slug="production-nuorder")

    with pytest.raises(CommandError, match="production-nuorder"):
        call_command("demo", once=True, stdout=io.StringIO())

    assert Channel.objects.filter(slug="production-nuorder").exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.cluster
def test_the_served_demo_prints_a_banner_serves_the_admin_and_stops_on_ctrl_c(tmp_path):
    """The whole `make demo` in a child process on a database of its own: banner, admin, Ctrl-C, no traceback."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "DEMO_PASSWORD": "demo-pass-1",
           "HTTP_RETRY_BACKOFF": "0.01", "Q_WORKERS": "1", "DEBUG": "true"}  # fmt: skip
    command = [sys.executable, str(MANAGE), "demo", "--addr", f"127.0.0.1:{port}", "--sandbox-port", "0",
               "--log", str(tmp_path / "demo.log")]  # fmt: skip
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    watchdog = threading.Timer(180, child.kill)  # a demo that never prints its banner fails the test, not CI
    watchdog.start()
    output = []
    try:
        for line in child.stdout:
            output.append(line)
            if line.startswith("  Ctrl-C stops everything"):
                break
        assert urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=10).status == 200
        child.send_signal(signal.SIGINT)
        started = time.monotonic()
        output.append(child.communicate(timeout=15)[0])  # never waits forever, whatever the child does
    finally:
        watchdog.cancel()
        if child.poll() is None:
            child.kill()
    text = "".join(output)
    assert time.monotonic() - started < 10, text
    assert re.search(rf"Admin:\s+http://127\.0\.0\.1:{port}/admin/", text), text
    assert "admin / the password in DEMO_PASSWORD" in text
    assert "Traceback" not in text and text.rstrip().endswith("Stopped."), text
    assert text.count("FIELD_ENCRYPTION_KEY is not set") <= 1  # the parent only: the children get the key
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()  # the web server is gone


def test_every_run_of_a_demo_cycle_adds_up(demo_once):
    counts = SyncRun.objects.values_list("channel__slug", "flow", "seen", "created", "updated", "skipped", "failed",
                                         "unknown", "note")  # fmt: skip
    assert [
        row
        for row in counts
        if row[2] != sum(row[3:8]) and not row[8]  # a note says where the rest went
    ] == []
