"""An inventory push killed with SIGKILL (a real `manage.py sync` process) after the channel applied its
adjustment and before the hub heard back: the next run sees that the sender is dead, settles the push by reading
the channel at once (not after the 30-minute claim), says the last run died, and never applies it twice."""

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.models import PushIntent
from tests.crash import HOLD, killed_at, run_after_crash
from tests.inventory.conftest import run
from tests.inventory.test_upload import CA_UPDATE, SKU, ledger, stock

pytestmark = pytest.mark.django_db(transaction=True)
OTHER = "1002-BLUE-X-S"  # a second listing, another product


def test_a_push_killed_after_the_channel_applied_it_is_settled_at_once_and_never_applied_twice(
    sandbox, sales, oms, settings
):
    channel = sales("channeladvisor", push_mode="relative")
    ca = sandbox.api("channeladvisor")
    run(channel, "inventory.upload")  # the baseline
    start = ca.quantity(SKU, "MAIN")
    on_hand, allocated = sandbox.world.stock[(SKU, "MAIN")]
    stock(sandbox, oms, SKU, "MAIN", on_hand=on_hand + 5, allocated=allocated)
    # The channel applies the +5, then holds its answer until the process is dead.
    held = ca.inject("drop_after", method="POST", path="UpdateQuantity", delay=HOLD)

    killed_at(held, channel, "inventory.upload")
    assert ca.quantity(SKU, "MAIN") == start + 5
    intent = PushIntent.objects.get(mapping__channel_sku=SKU, channel_warehouse__external_id="11", delta=5)
    assert intent.state == PushIntent.State.SENDING and intent.claimed_by  # the dead process's claim

    # Past the read timeout after the claim, the dead sender's request is no longer in flight: wait that long.
    settings.HTTP_READ_TIMEOUT = 2.0
    time.sleep(max(0.0, (intent.sent_at + timedelta(seconds=2) - timezone.now()).total_seconds()))
    ca.calls.clear()
    after = run_after_crash(channel, "inventory.upload")
    assert after.status == "ok", (after.error, after.note)
    assert "the last run died before it finished" in after.note  # the runner: its run was left running
    assert "the last run died while pushing 1 quantity" in after.note  # the outbox: its claim, at once
    intent.refresh_from_db()
    assert intent.state == PushIntent.State.SENT  # read back: applied
    assert ca.quantity(SKU, "MAIN") == start + 5  # once
    assert ledger(channel, SKU, "11") == start + 5
    assert not ca.calls_to("POST", CA_UPDATE)  # nothing else changed: nothing sent
    assert not PushIntent.objects.filter(state__in=PushIntent.UNSETTLED).exists()


def test_a_push_killed_mid_batch_applies_each_adjustment_once(sandbox, sales, oms, settings):
    """Killed while the channel holds the second product's call (not processed): the first product's adjustment
    was applied, the second was not; the next run tells them apart by reading and sends only the second."""
    channel = sales("channeladvisor", push_mode="relative")
    ca = sandbox.api("channeladvisor")
    run(channel, "inventory.upload")
    changes = {SKU: 5, OTHER: 3}
    start = {sku: ca.quantity(sku, "MAIN") for sku in changes}
    for sku, more in changes.items():
        on_hand, allocated = sandbox.world.stock[(sku, "MAIN")]
        stock(sandbox, oms, sku, "MAIN", on_hand=on_hand + more, allocated=allocated)
    accepted = len(ca.quantity_updates)
    held = ca.inject("timeout", method="POST", path="UpdateQuantity", after=1, delay=HOLD)

    killed_at(held, channel, "inventory.upload")
    assert len(ca.quantity_updates) == accepted + 1  # one product's adjustment applied, the other held

    settings.HTTP_READ_TIMEOUT = 2.0
    sent_at = PushIntent.objects.filter(state=PushIntent.State.SENDING).values_list("sent_at", flat=True).first()
    time.sleep(max(0.0, (sent_at + timedelta(seconds=2) - timezone.now()).total_seconds()))
    after = run_after_crash(channel, "inventory.upload")
    assert after.status in ("ok", "partial"), after.error
    assert {sku: ca.quantity(sku, "MAIN") for sku in changes} == {sku: start[sku] + n for sku, n in changes.items()}
    products = Counter(update["ProductID"] for update in ca.quantity_updates[accepted:])
    assert products == Counter({ca.product_id(sku): 1 for sku in changes})  # each adjustment applied once
    assert not PushIntent.objects.filter(state__in=PushIntent.UNSETTLED).exists()
