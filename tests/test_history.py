"""The check every run of the suite passes (tests/history.py): failed records are in the issue queue."""

import pytest

from integrations.models import SyncRun
from integrations.runner import flow_run
from tests.factories import ChannelFactory
from tests.history import unqueued_failures

pytestmark = pytest.mark.django_db


def run(channel, flow: str) -> SyncRun:
    return flow_run(channel=channel, flow=flow, trigger=SyncRun.Trigger.MANUAL)


@pytest.mark.unqueued_failures
def test_a_run_counting_failed_records_without_issues_is_caught(register_flow):
    def silent(channel, *, report, **kwargs):
        report.seen, report.failed = 2, 2  # counted failed, never reported

    register_flow("test.silent", silent)
    result = run(ChannelFactory(), "test.silent")
    assert result.status == "partial"
    assert unqueued_failures(result) == f"test.silent on {result.channel}: 2 failed, 0 open issue(s)"


def test_a_run_whose_failed_records_are_issues_passes(register_flow):
    def reported(channel, *, report, **kwargs):
        report.seen = 2
        report.issue("A-1", "refused")
        report.issue("A-2", "refused")

    register_flow("test.reported", reported)
    assert unqueued_failures(run(ChannelFactory(), "test.reported")) == ""


def test_a_channel_level_issue_covers_every_failed_record(register_flow):
    from integrations.http import ServerError

    def down(channel, *, report, **kwargs):
        report.seen, report.failed = 3, 3
        raise ServerError("unavailable", status=503)

    register_flow("test.down", down)
    result = run(ChannelFactory(), "test.down")
    assert result.status == "failed" and unqueued_failures(result) == ""
