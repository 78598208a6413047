"""A flow's position on a channel, and the guard that keeps one run of a (channel, flow) at a time.

Positions are strings compared as text, so they must sort as text: pass timezone-aware datetimes (stored as
UTC ISO 8601 with microseconds) or zero-padded numbers.

The guard:
- PostgreSQL: a session-level advisory lock keyed by the SyncCursor's id, taken without waiting
  (`pg_try_advisory_lock`) on a connection of its own. It is held across the flow's own commits and released
  when the run ends; if the worker dies, PostgreSQL drops the session and the lock with it.
  Why not `SELECT … FOR UPDATE NOWAIT` on the cursor row: flows move the cursor with an UPDATE of that same
  row from the default connection, and an UPDATE waits for a row lock held by any other connection, so the
  run would wait on itself forever. An advisory lock is the same NOWAIT mutex without a row to collide on,
  and it also works when the caller's rows are not yet committed (a run inside an outer transaction).
- SQLite (no row locks): a lease, `UPDATE … SET locked_until = now + T WHERE … AND (locked_until IS NULL OR
  locked_until < now)`, whose row count says who won. The lease names its holder (host, pid and the process's
  start time, so a reused pid is not mistaken for it): a run that finds the lease taken by a process of this
  machine that no longer exists takes it over at once, saying the last run died, instead of waiting for the
  lease to expire after T, the cluster's task timeout. SQLite is one machine's file, so the holder of a lease
  is always a process here.
"""

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Q
from django.utils import timezone

from integrations.models import Channel, SyncCursor

# First key of the two-key advisory lock: says "a Switchyard sync cursor" so other users of advisory locks
# in the same database cannot collide with ours. The second key is the SyncCursor id (an int4 in this form:
# one cursor per channel and flow stays far below 2**31).
ADVISORY_NAMESPACE = 0x5359  # "SY"

log = logging.getLogger(__name__)


def cursor_position(*, channel: Channel, flow: str) -> str:
    """The flow's committed position on the channel, or "" when it has none yet."""
    position = SyncCursor.objects.filter(channel=channel, flow=flow).values_list("position", flat=True).first()
    return position or ""


def cursor_window_start(*, channel: Channel, flow: str, since: datetime | None, overlap: timedelta) -> datetime | None:
    """Where a download starts: `since` when given, else the cursor minus `overlap` (the re-read window that
    catches a row committed just behind the last run), else None (everything)."""
    if since is not None:
        return since
    position = cursor_position(channel=channel, flow=flow)
    return datetime.fromisoformat(position) - overlap if position else None


def cursor_advance(*, channel: Channel, flow: str, position: datetime | str) -> bool:
    """Move the cursor forward to `position`, never back; True when it moved.

    Call it inside the transaction that commits the records the position covers: the cursor then moves
    only if those records are committed.
    """
    value = position_text(position)
    moved = (
        SyncCursor.objects.filter(channel=channel, flow=flow)
        .filter(Q(position="") | Q(position__lt=value))
        .update(position=value, updated_at=timezone.now())
    )
    if moved:
        return True
    _, created = SyncCursor.objects.get_or_create(channel=channel, flow=flow, defaults={"position": value})
    return created


def position_text(position: datetime | str) -> str:
    if isinstance(position, datetime):
        if timezone.is_naive(position):
            raise ValueError("cursor positions must be timezone-aware datetimes")
        return position.astimezone(UTC).isoformat(timespec="microseconds")
    return str(position)


def cursor_for(*, channel: Channel, flow: str) -> SyncCursor:
    cursor, _ = SyncCursor.objects.get_or_create(channel=channel, flow=flow)
    return cursor


@contextmanager
def cursor_lock(*, channel: Channel, flow: str) -> Iterator[bool]:
    """Hold the (channel, flow) guard for the `with` block; yields False when another run holds it."""
    cursor = cursor_for(channel=channel, flow=flow)
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        with _advisory_lock(cursor.pk) as won:
            yield won
    else:
        with _lease(cursor.pk) as won:
            yield won


@contextmanager
def _advisory_lock(cursor_id: int) -> Iterator[bool]:
    # A connection of its own: the lock outlives every transaction the flow commits on the default one.
    holder = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with holder.cursor() as sql:
            sql.execute("SELECT pg_try_advisory_lock(%s, %s)", [ADVISORY_NAMESPACE, cursor_id])
            won = bool(sql.fetchone()[0])
        try:
            yield won
        finally:
            if won:
                # Explicitly, in case a connection pool keeps the session alive after close().
                with holder.cursor() as sql:
                    sql.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_NAMESPACE, cursor_id])
    finally:
        holder.close()


@contextmanager
def _lease(cursor_id: int) -> Iterator[bool]:
    until = lease_take(cursor_id=cursor_id)
    try:
        yield until is not None
    finally:
        if until is not None:
            lease_release(cursor_id=cursor_id, until=until)


def lease_length() -> timedelta:
    return timedelta(seconds=int(settings.Q_CLUSTER.get("timeout") or 1800))


def lease_take(*, cursor_id: int) -> datetime | None:
    """Take the lease if it is free, expired, or held by a process that died; the new expiry when won, None
    when a live run holds it."""
    now = timezone.now()
    until, me = now + lease_length(), lease_holder()
    free = Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    if SyncCursor.objects.filter(free, pk=cursor_id).update(locked_until=until, locked_by=me):
        return until
    held = SyncCursor.objects.filter(pk=cursor_id).values_list("locked_until", "locked_by").first()
    if held is None or holder_alive(held[1]):
        return None
    taken = SyncCursor.objects.filter(pk=cursor_id, locked_until=held[0], locked_by=held[1])
    if not taken.update(locked_until=until, locked_by=me):
        return None  # another run took it over first
    log.warning("the last run holding cursor %s died (process %s is gone): taking its lease over", cursor_id, held[1])
    return until


def lease_holder(pid: int | None = None) -> str:
    """Who holds a lease: `host:pid:start time` (the start time tells a reused pid from the holder)."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_started(pid)}"


def holder_alive(holder: str) -> bool:
    """False only when the holder is known dead: a process of this machine that is gone (or a new one with its
    pid). A holder of another machine, or one written before holders were named, counts as alive."""
    host, _, rest = holder.partition(":")
    pid, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    return _started(int(pid)) == started != ""


def _started(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), "" when there is no such process; elsewhere
    "?" for a live process (a reused pid then cannot be told apart)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except FileNotFoundError:
        return ""
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return ""
        except PermissionError:
            pass
        return "?"


def lease_release(*, cursor_id: int, until: datetime) -> None:
    # Only our own lease: if ours expired and another run took it over, theirs stays.
    SyncCursor.objects.filter(pk=cursor_id, locked_until=until).update(locked_until=None, locked_by="")
