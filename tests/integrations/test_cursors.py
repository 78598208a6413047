import signal
import subprocess
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection, transaction
from django.utils import timezone as dj_timezone

from integrations.cursors import (
    cursor_advance,
    cursor_for,
    cursor_lock,
    cursor_position,
    lease_holder,
    lease_length,
    lease_release,
    lease_take,
)
from integrations.models import SyncCursor, SyncRun
from integrations.runner import flow_run
from tests.crash import HOLD, killed_at
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel():
    return ChannelFactory()


def test_position_is_empty_before_the_first_advance(channel):
    assert cursor_position(channel=channel, flow="orders.download") == ""


def test_advance_creates_the_cursor_and_moves_it_forward(channel):
    assert cursor_advance(channel=channel, flow="orders.download", position="2024-01-01")
    assert cursor_advance(channel=channel, flow="orders.download", position="2024-02-01")
    assert cursor_position(channel=channel, flow="orders.download") == "2024-02-01"


def test_advance_never_moves_backwards(channel):
    cursor_advance(channel=channel, flow="orders.download", position="2024-02-01")
    assert not cursor_advance(channel=channel, flow="orders.download", position="2024-01-01")
    assert cursor_position(channel=channel, flow="orders.download") == "2024-02-01"


def test_datetime_positions_are_utc_text_that_sorts_in_time_order(channel):
    later_but_east = datetime(2024, 1, 1, 12, 30, tzinfo=timezone(timedelta(hours=5)))  # 07:30 UTC
    cursor_advance(channel=channel, flow="orders.download", position=datetime(2024, 1, 1, 7, 0, tzinfo=UTC))
    cursor_advance(channel=channel, flow="orders.download", position=later_but_east)
    assert cursor_position(channel=channel, flow="orders.download") == "2024-01-01T07:30:00.000000+00:00"


def test_naive_datetime_positions_are_refused(channel):
    with pytest.raises(ValueError, match="timezone-aware"):
        cursor_advance(channel=channel, flow="orders.download", position=datetime(2024, 1, 1))


def test_advance_is_undone_when_its_transaction_rolls_back(channel):
    cursor_advance(channel=channel, flow="orders.download", position="2024-01-01")
    with pytest.raises(RuntimeError), transaction.atomic():
        cursor_advance(channel=channel, flow="orders.download", position="2024-03-01")
        raise RuntimeError("the records of this chunk failed to save")
    assert cursor_position(channel=channel, flow="orders.download") == "2024-01-01"


def test_lease_is_taken_once_until_released(channel):
    cursor = cursor_for(channel=channel, flow="orders.download")
    until = lease_take(cursor_id=cursor.pk)
    assert until is not None
    assert lease_take(cursor_id=cursor.pk) is None
    lease_release(cursor_id=cursor.pk, until=until)
    assert lease_take(cursor_id=cursor.pk) is not None


def test_lease_of_a_crashed_worker_expires(channel):
    cursor = cursor_for(channel=channel, flow="orders.download")
    SyncCursor.objects.filter(pk=cursor.pk).update(locked_until=dj_timezone.now() - timedelta(seconds=1))
    assert lease_take(cursor_id=cursor.pk) is not None


def test_lease_lasts_as_long_as_a_task_may_run(channel, settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 600}
    cursor = cursor_for(channel=channel, flow="orders.download")
    until = lease_take(cursor_id=cursor.pk)
    assert lease_length() == timedelta(seconds=600)
    assert timedelta(seconds=590) < until - dj_timezone.now() <= timedelta(seconds=600)


def test_release_leaves_a_lease_another_run_took_over(channel):
    cursor = cursor_for(channel=channel, flow="orders.download")
    expired = dj_timezone.now() - timedelta(seconds=1)
    SyncCursor.objects.filter(pk=cursor.pk).update(locked_until=expired)
    theirs = lease_take(cursor_id=cursor.pk)
    lease_release(cursor_id=cursor.pk, until=expired)  # the crashed run finally lets go of its old lease
    cursor.refresh_from_db()
    assert cursor.locked_until == theirs


def test_lock_is_held_once_per_channel_and_flow(channel):
    with cursor_lock(channel=channel, flow="orders.download") as first:
        with cursor_lock(channel=channel, flow="orders.download") as second:
            assert (first, second) == (True, False)
        with cursor_lock(channel=channel, flow="inventory.upload") as other_flow:
            assert other_flow


def test_lock_is_free_again_after_the_block(channel):
    with cursor_lock(channel=channel, flow="orders.download") as first:
        assert first
    with cursor_lock(channel=channel, flow="orders.download") as again:
        assert again


@pytest.mark.postgres
def test_cursor_moves_while_its_lock_is_held_on_postgres(channel):
    # A row lock on the cursor would make this UPDATE wait for ever; lock_timeout turns a regression into an error.
    with cursor_lock(channel=channel, flow="orders.download") as won, transaction.atomic():
        assert won
        with connection.cursor() as sql:
            sql.execute("SET LOCAL lock_timeout = '2s'")
        assert cursor_advance(channel=channel, flow="orders.download", position="2024-05-01")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_lock_on_postgres_is_held_by_a_session_of_its_own(channel):
    """Committed work on the default connection does not release the lock; another session is refused."""
    seen = {}
    with cursor_lock(channel=channel, flow="orders.download"):
        with transaction.atomic():
            cursor_advance(channel=channel, flow="orders.download", position="2024-05-01")

        def other_worker():
            with cursor_lock(channel=channel, flow="orders.download") as won:
                seen["won"] = won
            seen["position"] = cursor_position(channel=channel, flow="orders.download")
            connection.close()

        worker = threading.Thread(target=other_worker)
        worker.start()
        worker.join()
    assert seen == {"won": False, "position": "2024-05-01"}


# A lease whose holder died is taken over at once (SQLite), instead of "in progress" until it expires.


def hold(cursor, holder: str) -> None:
    future = dj_timezone.now() + timedelta(minutes=30)
    SyncCursor.objects.filter(pk=cursor.pk).update(locked_until=future, locked_by=holder)


def test_a_lease_held_by_a_killed_process_is_taken_over_at_once(channel):
    cursor = cursor_for(channel=channel, flow="orders.download")
    child = subprocess.Popen(["sleep", "60"])
    try:
        hold(cursor, lease_holder(child.pid))
        assert lease_take(cursor_id=cursor.pk) is None  # alive: it keeps its lease
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert lease_take(cursor_id=cursor.pk) is not None
    cursor.refresh_from_db()
    assert cursor.locked_by == lease_holder()


def test_a_reused_pid_is_not_mistaken_for_the_holder(channel):
    cursor = cursor_for(channel=channel, flow="orders.download")
    host, pid, _ = lease_holder().split(":")
    hold(cursor, f"{host}:{pid}:1")  # our pid, but a process that started at another time
    assert lease_take(cursor_id=cursor.pk) is not None


def test_a_holder_on_another_machine_or_unnamed_keeps_its_lease(channel):
    cursor = cursor_for(channel=channel, flow="orders.download")
    for holder in ("elsewhere.example:1:1", ""):
        hold(cursor, holder)
        assert lease_take(cursor_id=cursor.pk) is None


@pytest.mark.django_db(transaction=True)
def test_after_a_sync_process_is_killed_mid_run_the_next_run_says_it_died_and_runs(sandbox_channel, sandbox):
    if connection.vendor != "sqlite":
        pytest.skip("the lease is SQLite's guard; PostgreSQL's advisory lock dies with the session (tested above)")
    channel = sandbox_channel("oms")
    # The sandbox holds the run's first request: by then it holds the lease and its run is recorded running.
    held = sandbox.api("oms").inject("timeout", times=1, delay=HOLD, method="GET")
    killed_at(held, channel, "inventory.download")
    died = SyncRun.objects.get(channel=channel, flow="inventory.download")
    assert died.status == SyncRun.Status.RUNNING
    assert SyncCursor.objects.get(channel=channel, flow="inventory.download").locked_by  # the dead process's

    run = flow_run(channel=channel, flow="inventory.download", trigger=SyncRun.Trigger.MANUAL)
    assert run.status != SyncRun.Status.SKIPPED and run.seen > 0, run.error  # not "in progress" for 30 minutes
    died.refresh_from_db()
    assert died.status == SyncRun.Status.FAILED and "interrupted" in died.error.lower()
    assert "the last run died" in run.note
