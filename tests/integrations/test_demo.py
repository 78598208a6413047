"""`manage.py demo --once`, what `make demo` runs before it serves the admin: every flow against the sandboxes;
and what keeps the demo out of a real deployment (DEBUG off) and away from existing logins."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from integrations.demo import DEMO_USERNAME, demo_login_ensure
from integrations.management.commands.demo import Command as DemoCommand
from integrations.models import Channel, SyncRun
from orders.models import OrderEvent, ShipmentUpload, UploadState

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("debug", "force"), [(True, False), (False, True)], ids=["make-demo", "forced"])
def test_demo_once_runs_every_flow_and_ships_and_corrects_shipments_on_the_channels(settings, debug, force):
    settings.DEBUG = debug  # `make demo` sets DEBUG=1; --force runs it without
    out = io.StringIO()

    call_command("demo", once=True, force=force, stdout=out)

    assert not SyncRun.objects.filter(status=SyncRun.Status.FAILED).exists(), out.getvalue()
    uploads = ShipmentUpload.objects.all()
    assert uploads.exists() and not uploads.exclude(state=UploadState.SENT).exists()
    assert OrderEvent.objects.filter(message__contains="tracking corrected to").count() == 1
    assert "shipments.upload" in out.getvalue()


def test_demo_refuses_to_run_with_debug_off_unless_forced(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match=r"DEBUG is off.*Run it with DEBUG=1 .*or pass --force"):
        call_command("demo", once=True, stdout=io.StringIO())

    assert not Channel.objects.exists()


def test_the_demo_login_gets_the_demo_password(settings):
    settings.DEMO_PASSWORD = "demo-pass-1234"
    out = io.StringIO()

    DemoCommand(stdout=out)._login("127.0.0.1:8123")

    user = get_user_model().objects.get(username=DEMO_USERNAME)
    assert user.is_superuser and user.check_password("demo-pass-1234")
    assert "as admin / the password in DEMO_PASSWORD" in out.getvalue()


def test_the_demo_login_without_demo_password_gets_a_random_one_that_is_printed(settings):
    settings.DEMO_PASSWORD = ""
    out = io.StringIO()

    DemoCommand(stdout=out)._login("127.0.0.1:8123")

    password = out.getvalue().split("as admin / ")[1].split()[0]
    assert get_user_model().objects.get(username=DEMO_USERNAME).check_password(password)


def test_the_demo_never_resets_an_existing_users_password_or_role(settings):
    existing = get_user_model().objects.create_user(username=DEMO_USERNAME, password="someone-chose-this")
    settings.DEMO_PASSWORD = "demo-pass-1234"
    out = io.StringIO()

    DemoCommand(stdout=out)._login("127.0.0.1:8123")

    existing.refresh_from_db()
    assert existing.check_password("someone-chose-this")
    assert not existing.is_staff and not existing.is_superuser
    assert "the user already existed, its password is unchanged" in out.getvalue()
    assert demo_login_ensure(username=DEMO_USERNAME, password="x") is False


def test_every_run_of_a_demo_cycle_adds_up(settings):
    settings.DEBUG = True  # as `make demo` runs it
    call_command("demo", once=True, stdout=io.StringIO())
    counts = SyncRun.objects.values_list("channel__slug", "flow", "seen", "created", "updated", "skipped", "failed",
                                         "unknown", "note")  # fmt: skip
    assert [
        row
        for row in counts
        if row[2] != sum(row[3:8]) and not row[8]  # a note says where the rest went
    ] == []
