"""Two workers on one channel's push outbox at once (PostgreSQL), as two django-q2 clusters run them: a chunk task
claiming its intents while the next inventory.upload supersedes the intents no chunk has claimed yet, and two
settlements writing the push ledger for the same listings. Each pair locks several of the same rows; they must
take them in one order (by id, by ledger key), or each holds a row the other waits for: `deadlock detected`.

Each test makes the interleaving happen every time: a third session holds a row both need, the first worker
queues behind it, then the second; then the row is let go. Taken in one order, the second worker holds nothing
while it waits and both finish; taken in two orders, the second holds the row the first needs next.
"""

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import QuerySet
from django.utils import timezone

from inventory.ledger import ledger_write
from inventory.models import PushIntent, PushLedger
from inventory.pushes import intents_claim, intents_supersede
from tests.inventory.factories import ChannelWarehouseFactory, PushIntentFactory, PushLedgerFactory
from tests.threads import in_thread

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
State = PushIntent.State


def wait_for_waiters(count: int) -> None:
    """Until `count` sessions of this database wait for a lock (seen from a session of its own)."""
    monitor = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with monitor.cursor() as sql:
                sql.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
                if sql.fetchone()[0] >= count:
                    return
            time.sleep(0.02)
        raise AssertionError(f"{count} session(s) never came to wait for a lock")
    finally:
        monitor.close()


def test_a_chunk_claiming_while_the_next_run_supersedes_takes_the_rows_in_one_order():
    target = ChannelWarehouseFactory()
    low, high = (PushIntentFactory(channel_warehouse=target) for _ in range(2))
    # Which of two rows a statement reaches first is its plan's doing, not the ids': the supersede's goes through
    # a hash of the channel's pending ids, the claim's (on a large outbox, as the hint makes it here) through an
    # index. Either row first for the claim, then: before the fix, one of the two arrangements deadlocked.
    for first, second in ((low, high), (high, low)):
        PushIntent.objects.update(state=State.PENDING, claim="")
        PushIntent.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(minutes=1))
        PushIntent.objects.filter(pk=second.pk).update(created_at=timezone.now())
        errors = queued_behind(
            PushIntent.objects.filter(pk=first.pk),
            (lambda: intents_claim([low.pk, high.pk]), "SET enable_seqscan = off"),
            # The next run replaces both queued pushes (given in the order its diff met them).
            (lambda: intents_supersede([high.pk, low.pk]), ""),
        )
        assert errors == []
        # The claim queued first and took both rows; the supersede found nothing pending any more.
        assert set(PushIntent.objects.values_list("state", flat=True)) == {State.SENDING}


def test_two_ledger_writes_of_the_same_listings_take_the_rows_in_one_order():
    target = ChannelWarehouseFactory()
    low, high = (PushLedgerFactory(channel_warehouse=target) for _ in range(2))
    keys = [(row.mapping_id, target.pk) for row in (low, high)]
    at = timezone.now()
    errors = queued_behind(
        PushLedger.objects.filter(pk=low.pk),
        (lambda: ledger_write({keys[0]: (1, ()), keys[1]: (1, ())}, at=at), ""),
        # The other writer met the same listings the other way round (its rows came from another query).
        (lambda: ledger_write({keys[1]: (2, ()), keys[0]: (2, ())}, at=at), ""),
    )
    assert errors == []
    assert sorted(PushLedger.objects.values_list("quantity", flat=True)) == [2, 2]


Work = tuple[Callable[[], object], str]  # what a worker does, and a statement its session runs first


def queued_behind(held: QuerySet, first: Work, second: Work) -> list[BaseException]:
    """`first`, then `second`, each in a worker of its own, both queued behind a third session holding `held`'s
    row; once it lets go, what the two raised (both are waited for)."""
    with transaction.atomic():
        list(held.select_for_update())
        first_thread, first_errors = in_thread(*first)
        wait_for_waiters(1)
        second_thread, second_errors = in_thread(*second)
        wait_for_waiters(2)
    first_thread.join(15)
    second_thread.join(15)
    return first_errors + second_errors
