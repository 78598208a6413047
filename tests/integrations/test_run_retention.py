"""Sync runs older than SYNC_RUN_RETENTION_DAYS are pruned as each flow runs, like the inventory's push intents."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import SyncRun
from integrations.runner import flow_run
from integrations.services import runs_forget
from tests.factories import ChannelFactory, SyncIssueFactory, SyncRunFactory

pytestmark = pytest.mark.django_db
FLOW = "orders.download"


@pytest.fixture
def channel(settings):
    settings.SYNC_RUN_RETENTION_DAYS = 30
    return ChannelFactory(kind="channeladvisor")


def aged(channel, days: int, status: str = SyncRun.Status.FAILED, flow: str = FLOW) -> SyncRun:
    run = SyncRunFactory(channel=channel, flow=flow, status=status)
    SyncRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(days=days))
    return run


def test_runs_older_than_the_retention_are_deleted_and_newer_ones_kept(channel):
    old, recent = aged(channel, 31), aged(channel, 29)
    assert runs_forget(channel=channel, flow=FLOW) == 1
    assert list(SyncRun.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not SyncRun.objects.filter(pk=old.pk).exists()


def test_the_latest_success_is_kept_however_old(channel):
    older_success, last_success = aged(channel, 60, "ok"), aged(channel, 40, "partial")
    aged(channel, 35)
    runs_forget(channel=channel, flow=FLOW)
    assert list(SyncRun.objects.values_list("pk", flat=True)) == [last_success.pk]
    assert not SyncRun.objects.filter(pk=older_success.pk).exists()


def test_only_the_flow_that_ran_is_pruned_and_its_issues_stay(channel):
    old = aged(channel, 31)
    other = aged(channel, 31, flow="orders.acknowledge")
    issue = SyncIssueFactory(channel=channel, flow=FLOW, last_run=old)
    runs_forget(channel=channel, flow=FLOW)
    issue.refresh_from_db()
    assert issue.last_run is None  # the issue outlives the run that last saw it
    assert list(SyncRun.objects.values_list("pk", flat=True)) == [other.pk]


def test_running_the_flow_prunes_its_old_runs(channel, register_flow):
    register_flow(FLOW, lambda channel, *, report, since=None, dry_run=False: None)
    aged(channel, 31)
    new = flow_run(channel=channel, flow=FLOW, trigger="manual")
    assert list(SyncRun.objects.values_list("pk", flat=True)) == [new.pk]
