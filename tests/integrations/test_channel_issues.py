"""A flow that fails on the channel as a whole opens one channel-level issue, which closes on the next success."""

import socket

import pytest

from integrations.health import PING
from integrations.models import CHANNEL_ISSUE_KEY, SyncIssue, SyncRun
from integrations.runner import flow_run

pytestmark = pytest.mark.django_db


def ping(channel) -> SyncRun:
    return flow_run(channel=channel, flow=PING, trigger=SyncRun.Trigger.MANUAL)


def channel_issues(channel):
    return SyncIssue.objects.filter(channel=channel, record_key=CHANNEL_ISSUE_KEY)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


def test_refused_credentials_open_one_channel_issue_however_often_the_flow_fails(sandbox_channel):
    channel = sandbox_channel("oms", credentials={"api_key": "wrong"})
    first, second = ping(channel), ping(channel)
    assert (first.status, second.status) == ("failed", "failed")
    issue = channel_issues(channel).get()
    assert (issue.flow, issue.status, issue.occurrences, issue.last_run) == (PING, "open", 2, second)
    assert issue.message.startswith(f"{PING} could not work with the channel:")
    assert first.failed == 0  # the channel failed, not a record


def test_the_channel_issue_closes_itself_on_the_next_success(sandbox_channel, sandbox):
    channel = sandbox_channel("oms")
    sandbox.api("oms").inject("status", times=100, status=503)
    assert ping(channel).status == "failed"
    assert channel_issues(channel).get().status == "open"
    sandbox.api("oms").clear_faults()
    ok = ping(channel)
    issue = channel_issues(channel).get()
    assert (ok.status, issue.status, issue.last_run) == ("ok", "resolved", ok)


def test_connection_refused_opens_the_channel_issue(sandbox_channel):
    channel = sandbox_channel("oms", base_url=f"http://127.0.0.1:{closed_port()}/")
    assert ping(channel).status == "failed"
    assert channel_issues(channel).filter(status="open").count() == 1


def test_a_dry_run_opens_no_channel_issue(sandbox_channel):
    channel = sandbox_channel("oms", credentials={"api_key": "wrong"})
    flow_run(channel=channel, flow=PING, trigger=SyncRun.Trigger.MANUAL, dry_run=True)
    assert not channel_issues(channel).exists()


def test_a_record_level_failure_opens_no_channel_issue(sandbox_channel, register_flow):
    channel = sandbox_channel("oms")

    def flow(channel, *, report, since=None, dry_run=False):
        report.seen += 1
        report.issue("A-1", "line 1: SKU X is not mapped")

    register_flow("orders.submit", flow)
    assert flow_run(channel=channel, flow="orders.submit", trigger="manual").status == "partial"
    assert not channel_issues(channel).exists()
