import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction

from integrations.connectors.base import SettingsError
from integrations.cursors import cursor_advance, cursor_lock, cursor_position
from integrations.http import AuthFailed
from integrations.models import SyncIssue, SyncRun
from integrations.runner import BUSY, INTERRUPTED, LAST_RUN_DIED, flow_run
from tests.factories import ChannelFactory, SyncIssueFactory, SyncRunFactory

FLOW = "orders.download"  # a flow the ChannelAdvisor connector declares; each test registers its own function


@pytest.fixture
def channel(db):
    return ChannelFactory(kind="channeladvisor")


def run(channel, **kwargs):
    return flow_run(channel=channel, flow=kwargs.pop("flow", FLOW), trigger=SyncRun.Trigger.MANUAL, **kwargs)


def test_successful_run_records_counts_and_ok(channel, register_flow):
    def flow(channel, *, report, since=None, dry_run=False):
        report.seen, report.created, report.updated, report.skipped = 7, 3, 2, 2

    register_flow(FLOW, flow)
    result = run(channel)
    result.refresh_from_db()
    assert (result.status, result.trigger, result.error) == (SyncRun.Status.OK, "manual", "")
    assert (result.seen, result.created, result.updated, result.skipped, result.failed) == (7, 3, 2, 2, 0)
    assert result.finished_at >= result.started_at


def test_flow_receives_the_channel_since_and_dry_run(channel, register_flow):
    received = {}

    def flow(channel, *, report, since=None, dry_run=False):
        received.update(channel=channel, since=since, dry_run=dry_run, report_dry_run=report.dry_run)

    register_flow(FLOW, flow)
    since = datetime(2024, 1, 1, tzinfo=UTC)
    result = run(channel, since=since, dry_run=True)
    assert received == {"channel": channel, "since": since, "dry_run": True, "report_dry_run": True}
    assert result.dry_run


def test_bad_record_becomes_an_open_issue_and_the_run_goes_on(channel, register_flow):
    def flow(channel, *, report, since=None, dry_run=False):
        for key in ("A-1", "A-2", "A-3"):
            report.seen += 1
            if key == "A-2":
                report.issue(key, "line 2: SKU X is not mapped", {"sku": "X", "price": Decimal("9.50")})
            else:
                report.created += 1

    register_flow(FLOW, flow)
    result = run(channel)
    assert (result.status, result.seen, result.created, result.failed) == (SyncRun.Status.PARTIAL, 3, 2, 1)
    issue = SyncIssue.objects.get()
    assert (issue.record_key, issue.status, issue.occurrences) == ("A-2", SyncIssue.Status.OPEN, 1)
    assert issue.payload == {"sku": "X", "price": "9.50"}
    assert issue.last_run == result


def test_a_record_failing_again_bumps_its_open_issue(channel, register_flow):
    message = iter(["first reason", "second reason"])

    def flow(channel, *, report, since=None, dry_run=False):
        report.issue("A-2", next(message), {"attempt": 1})

    register_flow(FLOW, flow)
    run(channel)
    second = run(channel)
    issue = SyncIssue.objects.get()
    assert (issue.occurrences, issue.message, issue.last_run) == (2, "second reason", second)


def test_a_record_that_succeeds_resolves_its_open_issue(channel, register_flow):
    issue = SyncIssueFactory(channel=channel, flow=FLOW, record_key="A-2")
    other_flow = SyncIssueFactory(channel=channel, flow="shipments.upload", record_key="A-2")

    def flow(channel, *, report, since=None, dry_run=False):
        report.succeeded("A-2")

    register_flow(FLOW, flow)
    result = run(channel)
    issue.refresh_from_db()
    other_flow.refresh_from_db()
    assert (issue.status, issue.last_run) == (SyncIssue.Status.RESOLVED, result)
    assert issue.resolved_at is not None
    assert other_flow.status == SyncIssue.Status.OPEN


def test_a_resolved_record_that_fails_again_opens_a_new_issue(channel, register_flow):
    SyncIssueFactory(channel=channel, flow=FLOW, record_key="A-2", status=SyncIssue.Status.RESOLVED)
    register_flow(FLOW, lambda channel, *, report, **kw: report.issue("A-2", "broken again"))
    run(channel)
    assert SyncIssue.objects.filter(record_key="A-2", status=SyncIssue.Status.OPEN).count() == 1
    assert SyncIssue.objects.filter(record_key="A-2").count() == 2


def test_channel_error_fails_the_run_with_its_reason_and_keeps_the_issues(channel, register_flow):
    def flow(channel, *, report, since=None, dry_run=False):
        report.issue("A-1", "customer unknown")
        raise AuthFailed(
            "the refresh token was revoked", channel="acme", method="POST", path="/oauth2/token", status=401
        )

    register_flow(FLOW, flow)
    result = run(channel)
    assert result.status == SyncRun.Status.FAILED
    assert result.error == "acme: the refresh token was revoked (POST /oauth2/token → 401)"
    assert SyncIssue.objects.filter(record_key="A-1", status=SyncIssue.Status.OPEN).exists()


def test_unexpected_error_reason_is_one_redacted_line_not_a_traceback(channel, register_flow):
    def flow(channel, *, report, since=None, dry_run=False):
        raise ValueError("could not parse\nrefresh_token=abc123secret in the reply")

    register_flow(FLOW, flow)
    result = run(channel)
    assert result.status == SyncRun.Status.FAILED
    assert result.error.startswith("ValueError: could not parse refresh_token=[redacted]")
    assert "abc123secret" not in result.error
    assert "Traceback" not in result.error and "\n" not in result.error


def test_settings_error_fails_the_run_with_its_own_text(channel, register_flow):
    def flow(channel, *, report, since=None, dry_run=False):
        raise SettingsError("setting 'profile_id' is required")

    register_flow(FLOW, flow)
    assert run(channel).error == "setting 'profile_id' is required"


def test_disabled_channel_is_skipped_with_the_reason(register_flow, db):
    channel = ChannelFactory(kind="channeladvisor", enabled=False)
    called = register_flow(FLOW, _never_called)
    result = run(channel)
    assert (result.status, result.error) == (SyncRun.Status.SKIPPED, f"channel {channel.slug} is disabled")
    assert result.duration == 0
    assert called.calls == 0


def test_flow_the_connector_does_not_support_is_refused(channel, register_flow):
    called = register_flow("orders.submit", _never_called)  # the fulfillment system's flow, not a sales channel's
    result = run(channel, flow="orders.submit")
    assert result.status == SyncRun.Status.SKIPPED
    assert result.error == "the ChannelAdvisor connector does not support orders.submit"
    assert called.calls == 0


def test_flow_nobody_registered_is_refused(channel):
    result = run(channel, flow="orders.teleport")
    assert (result.status, result.error) == (SyncRun.Status.SKIPPED, "no flow named 'orders.teleport' is installed")


def test_run_is_skipped_while_another_holds_the_lock(channel, register_flow):
    called = register_flow(FLOW, _never_called)
    with cursor_lock(channel=channel, flow=FLOW):
        result = run(channel)
    assert (result.status, result.error) == (SyncRun.Status.SKIPPED, BUSY)
    assert called.calls == 0


def test_run_left_running_by_a_dead_worker_is_marked_interrupted(channel, register_flow):
    stale = SyncRunFactory(channel=channel, flow=FLOW, status=SyncRun.Status.RUNNING)
    register_flow(FLOW, lambda channel, **kw: None)
    result = run(channel)
    stale.refresh_from_db()
    assert (stale.status, stale.error) == (SyncRun.Status.FAILED, INTERRUPTED)
    assert stale.finished_at is not None
    assert result.note == LAST_RUN_DIED  # the run that took over says so in the run history


def test_dry_run_writes_no_issues(channel, register_flow):
    register_flow(FLOW, lambda channel, *, report, **kw: report.issue("A-1", "would fail"))
    result = run(channel, dry_run=True)
    assert (result.status, result.failed) == (SyncRun.Status.PARTIAL, 1)
    assert not SyncIssue.objects.exists()


def test_cursor_keeps_only_what_was_committed_when_the_flow_fails(channel, register_flow):
    def flow(channel, *, report, since=None, dry_run=False):
        with transaction.atomic():
            cursor_advance(channel=channel, flow=FLOW, position="2024-01-01")  # chunk 1 commits
        with transaction.atomic():
            cursor_advance(channel=channel, flow=FLOW, position="2024-02-01")
            raise AuthFailed("token expired")  # chunk 2 rolls back, cursor with it

    register_flow(FLOW, flow)
    result = run(channel)
    assert result.status == SyncRun.Status.FAILED
    assert cursor_position(channel=channel, flow=FLOW) == "2024-01-01"


def _never_called(channel, **kwargs):
    _never_called.calls += 1


_never_called.calls = 0


@pytest.fixture(autouse=True)
def _reset_never_called():
    _never_called.calls = 0


# Concurrency: real threads, each with its own database connection, so the rows must be committed.


def _two_runs_started_together(channel, register_flow):
    entered, release = threading.Event(), threading.Event()

    def slow_flow(channel, *, report, since=None, dry_run=False):
        entered.set()
        release.wait(10)
        report.seen = 1

    register_flow(FLOW, slow_flow)
    results, start, lost = [], threading.Barrier(2), threading.Event()

    def worker():
        start.wait()
        try:
            results.append(run(channel))
        finally:
            connection.close()
            if results and results[-1].status == SyncRun.Status.SKIPPED:
                lost.set()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    # The loser returns at once, while the winner is still inside the flow.
    assert entered.wait(10) and lost.wait(10)
    release.set()
    for thread in threads:
        thread.join(10)
    return sorted(r.status for r in results), [r.error for r in results if r.status == SyncRun.Status.SKIPPED]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_started_together_on_postgres_one_runs_one_is_skipped(register_flow):
    channel = ChannelFactory(kind="channeladvisor")
    statuses, reasons = _two_runs_started_together(channel, register_flow)
    assert statuses == [SyncRun.Status.OK, SyncRun.Status.SKIPPED]
    assert reasons == [BUSY]


@pytest.mark.django_db(transaction=True)
def test_two_runs_started_together_on_sqlite_one_runs_one_is_skipped(register_flow):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite lease; PostgreSQL has its own test above")
    channel = ChannelFactory(kind="channeladvisor")
    statuses, reasons = _two_runs_started_together(channel, register_flow)
    assert statuses == [SyncRun.Status.OK, SyncRun.Status.SKIPPED]
    assert reasons == [BUSY]


@pytest.mark.django_db(transaction=True)
def test_committed_chunks_move_the_cursor_for_everyone_while_the_run_goes_on(register_flow):
    channel = ChannelFactory(kind="channeladvisor")
    seen_by_others = {}

    def flow(channel, *, report, since=None, dry_run=False):
        with transaction.atomic():
            cursor_advance(channel=channel, flow=FLOW, position="2024-01-01")

        def look():  # another worker, on its own connection, mid-run
            seen_by_others["position"] = cursor_position(channel=channel, flow=FLOW)
            connection.close()

        reader = threading.Thread(target=look)
        reader.start()
        reader.join(10)
        with transaction.atomic():
            cursor_advance(channel=channel, flow=FLOW, position="2024-02-01")

    register_flow(FLOW, flow)
    assert run(channel).status == SyncRun.Status.OK
    assert seen_by_others == {"position": "2024-01-01"}
    assert cursor_position(channel=channel, flow=FLOW) == "2024-02-01"


def test_issue_keys_longer_than_the_column_are_cut(channel, register_flow):
    register_flow(FLOW, lambda channel, *, report, **kw: report.issue("K" * 250, "too long a key"))
    run(channel)
    assert SyncIssue.objects.get().record_key == "K" * 200


def test_resolving_thousands_of_records_takes_a_bounded_number_of_queries(
    channel, register_flow, django_assert_max_num_queries
):
    SyncIssueFactory.create_batch(3, channel=channel, flow=FLOW)
    keys = [f"R-{n}" for n in range(2000)]
    register_flow(FLOW, lambda channel, *, report, **kw: report.succeeded(*keys))
    with django_assert_max_num_queries(20):
        run(channel)


def test_a_run_with_records_of_unknown_outcome_is_partial_and_says_so(channel, register_flow):
    def flow(channel, *, report, since=None, dry_run=False):
        report.seen, report.created, report.unknown = 3, 1, 2
        report.note("2 push(es) of unknown outcome")

    register_flow(FLOW, flow)
    result = run(channel)
    assert (result.status, result.unknown, result.note) == (SyncRun.Status.PARTIAL, 2, "2 push(es) of unknown outcome")


def test_an_issue_about_a_record_already_counted_moves_it_to_failed(channel, register_flow):
    def flow(channel, *, report, since=None, dry_run=False):
        report.seen, report.updated = 2, 2
        report.issue("A-1", "stored, but in conflict", counted_as="updated")

    register_flow(FLOW, flow)
    result = run(channel)
    assert (result.seen, result.updated, result.failed) == (2, 1, 1)
