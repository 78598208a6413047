"""inventory.reconcile: the discrepancy report finds exactly what differs on the channel; push again; the
reconcile_inventory command."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from inventory.models import Discrepancy
from tests.inventory.conftest import run

pytestmark = pytest.mark.django_db
SEEDED = {("1002-RED-X-S", "MAIN"): 3, ("1002-RED-X-M", "EAST"): 0, ("GM501", "FBA"): 999}
DC = {"MAIN": "11", "EAST": "12", "FBA": "13"}


@pytest.fixture
def synced(sandbox, sales):
    """A ChannelAdvisor channel whose every quantity was pushed; then the channel drifts on three listings."""
    channel = sales("channeladvisor")
    run(channel, "inventory.upload")
    ca = sandbox.api("channeladvisor")
    hub = {key: ca.quantity(*key) for key in SEEDED}
    for (sku, dc), quantity in SEEDED.items():
        ca.set_quantity(sku, dc, quantity)
    return channel, hub


def test_reconcile_finds_exactly_the_differences_seeded_in_the_sandbox(synced):
    channel, hub = synced
    result = run(channel, "inventory.reconcile")
    rows = {
        (d.mapping.channel_sku, d.channel_warehouse.external_id): (d.hub_quantity, d.channel_quantity, d.last_pushed)
        for d in Discrepancy.objects.filter(channel=channel).select_related("mapping", "channel_warehouse")
    }
    assert rows == {(sku, DC[dc]): (hub[sku, dc], seeded, hub[sku, dc]) for (sku, dc), seeded in SEEDED.items()}
    assert (result.created, result.skipped) == (3, result.seen - 3)
    assert all(d.last_pushed_at for d in Discrepancy.objects.all())


def test_each_run_replaces_the_report(sandbox, synced):
    channel, hub = synced
    run(channel, "inventory.reconcile")
    sandbox.api("channeladvisor").set_quantity("GM501", "FBA", hub["GM501", "FBA"])
    run(channel, "inventory.reconcile")
    assert Discrepancy.objects.filter(channel=channel).count() == 2


def test_push_again_from_the_admin_puts_the_hubs_quantity_back(admin_client, sandbox, synced):
    channel, hub = synced
    run(channel, "inventory.reconcile")
    chosen = Discrepancy.objects.get(mapping__channel_sku="1002-RED-X-S")
    response = admin_client.post(
        reverse("admin:inventory_discrepancy_changelist"),
        {"action": "push_again", "_selected_action": [chosen.pk]},
        follow=True,
    )
    assert "1 quantity push(es) accepted, 0 failed" in response.content.decode()
    assert sandbox.api("channeladvisor").quantity("1002-RED-X-S", "MAIN") == hub["1002-RED-X-S", "MAIN"]
    assert not Discrepancy.objects.filter(pk=chosen.pk).exists()
    assert Discrepancy.objects.filter(channel=channel).count() == 2  # the others were not chosen
    assert channel.runs.filter(flow="inventory.upload", trigger="manual").exists()


def test_push_again_on_a_relative_channel_sends_the_difference_from_what_the_channel_shows(sandbox, sales):
    channel = sales("channeladvisor", push_mode="relative")
    run(channel, "inventory.upload")
    ca = sandbox.api("channeladvisor")
    hub = ca.quantity("1002-RED-X-S", "MAIN")
    ca.set_quantity("1002-RED-X-S", "MAIN", hub - 4)
    run(channel, "inventory.reconcile")
    from inventory.reconcile import discrepancies_push_again

    counts = discrepancies_push_again(discrepancy_ids=Discrepancy.objects.values_list("pk", flat=True))
    assert counts == {"pushed": 1, "failed": 0, "busy": 0}
    assert ca.quantity_updates[-1]["Updates"] == [{"DistributionCenterID": 11, "Quantity": 4}]
    assert ca.quantity("1002-RED-X-S", "MAIN") == hub


def test_dry_run_reconcile_keeps_the_old_report(synced):
    channel, _ = synced
    run(channel, "inventory.reconcile", dry_run=True)
    assert not Discrepancy.objects.exists()


def test_reconcile_inventory_command_prints_the_differences(synced):
    channel, hub = synced
    out = StringIO()
    call_command("reconcile_inventory", "--channel", channel.slug, stdout=out)
    text = out.getvalue()
    assert "inventory.reconcile on channeladvisor-sandbox: ok" in text
    assert f"1002-RED-X-S@11: hub {hub['1002-RED-X-S', 'MAIN']}, channel 3" in text
    assert Discrepancy.objects.count() == 3


def test_reconcile_inventory_command_refuses_an_unknown_channel(db):
    with pytest.raises(CommandError, match="no channel with slug 'nope'"):
        call_command("reconcile_inventory", "--channel", "nope")
