from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_q.models import Schedule

from integrations.http import ServerError
from integrations.models import SyncRun
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db
FLOW = "orders.download"


@pytest.fixture
def channel():
    return ChannelFactory(slug="acme", kind="channeladvisor")


def sync(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("sync", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_sync_runs_the_flow_now_and_prints_the_summary(channel, register_flow):
    def flow(channel, *, report, since=None, dry_run=False):
        report.seen, report.created, report.updated = 5, 3, 2

    register_flow(FLOW, flow)
    out, err = sync("--channel", "acme", "--flow", FLOW)
    run = SyncRun.objects.get()
    assert run.trigger == SyncRun.Trigger.COMMAND
    assert out.startswith("orders.download on acme: ok in ")
    assert "seen 5, created 3, updated 2, skipped 0, failed 0" in out
    assert "acme orders.download" in err and "5 records" in err  # the progress bar


def test_sync_dry_run_prints_what_the_flow_would_do(channel, register_flow):
    def flow(channel, *, report, since=None, dry_run=False):
        report.say("would create order 1001")
        report.issue("1002", "SKU X is not mapped")

    register_flow(FLOW, flow)
    out, _ = sync("--channel", "acme", "--flow", FLOW, "--dry-run")
    assert "(dry run)" in out
    assert "  would create order 1001" in out
    assert "  ! 1002: SKU X is not mapped" in out
    assert SyncRun.objects.get().dry_run


def test_sync_passes_since_to_the_flow_as_an_aware_datetime(channel, register_flow):
    received = {}
    register_flow(FLOW, lambda channel, *, report, since=None, **kw: received.update(since=since))
    sync("--channel", "acme", "--flow", FLOW, "--since", "2024-03-01T08:00")
    assert received["since"] == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


def test_sync_exits_1_with_the_reason_when_the_run_fails(channel, register_flow):
    def flow(channel, *, report, since=None, dry_run=False):
        raise ServerError("the service is unavailable", channel="acme", method="GET", path="/v1/Orders", status=503)

    register_flow(FLOW, flow)
    with pytest.raises(CommandError) as failed:
        sync("--channel", "acme", "--flow", FLOW)
    assert failed.value.returncode == 1
    assert str(failed.value) == (
        "orders.download on acme failed: acme: the service is unavailable (GET /v1/Orders → 503)"
    )


def test_sync_refuses_an_unknown_channel():
    with pytest.raises(CommandError, match="no channel with slug 'nope'"):
        sync("--channel", "nope", "--flow", FLOW)


def test_sync_refuses_an_unknown_flow_and_lists_the_installed_ones(channel):
    with pytest.raises(CommandError, match=r"no flow named 'orders\.teleport'; installed: .*integrations\.ping"):
        sync("--channel", "acme", "--flow", "orders.teleport")


def test_sync_schedules_prints_what_changed(channel):
    channel.set_flow(FLOW, enabled=True)
    type(channel).objects.filter(pk=channel.pk).update(flow_settings=channel.flow_settings)  # no signal
    out = StringIO()
    call_command("sync_schedules", stdout=out)
    assert out.getvalue().strip() == "schedules: 1 created, 0 re-timed, 0 removed"
    assert Schedule.objects.filter(name="switchyard:acme:orders.download").exists()
