import pytest

from integrations.models import SyncRun
from integrations.tasks import RUN_FLOW, queue_flow, run_flow
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def test_run_flow_runs_the_flow_and_returns_the_run_summary(register_flow):
    channel = ChannelFactory(kind="channeladvisor")

    def flow(channel, *, report, since=None, dry_run=False):
        report.seen, report.created = 2, 2

    register_flow("orders.download", flow)
    summary = run_flow(channel.pk, "orders.download")
    run = SyncRun.objects.get()
    assert summary == {
        "run": run.pk,
        "status": "ok",
        "seen": 2,
        "created": 2,
        "updated": 0,
        "skipped": 0,
        "failed": 0,
        "unknown": 0,
        "error": "",
    }
    assert run.trigger == SyncRun.Trigger.SCHEDULE


def test_queue_flow_puts_a_run_flow_task_on_the_broker(queued_tasks):
    channel = ChannelFactory(slug="acme")
    task_id = queue_flow(channel=channel, flow="orders.download", trigger=SyncRun.Trigger.MANUAL)
    [task] = queued_tasks()
    assert task["id"] == task_id
    assert (task["func"], task["args"], task["name"]) == (
        RUN_FLOW,
        (channel.pk, "orders.download", "manual"),
        "acme orders.download",
    )


def test_run_flow_for_a_channel_deleted_after_queueing_records_nothing():
    summary = run_flow(999999, "orders.download")
    assert summary == {"run": None, "status": "skipped", "error": "channel 999999 no longer exists"}
    assert not SyncRun.objects.exists()
