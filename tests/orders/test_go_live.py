"""Order download starts at the channel's go-live date (Channel.go_live_at), against the sandboxes; the order rules
page shows the date and links to the channel page where it is set; the migration moves each order rules date
onto its channel."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from integrations.models import Channel
from integrations.sandbox.seed import EPOCH
from orders.models import Order, OrderRules
from orders.sync import download_start
from tests.orders.conftest import SALES_KINDS
from tests.orders.factories import OrderRulesFactory
from tests.orders.test_download import channel_orders

BEFORE = [("orders", "0009_orderline_attributes"), ("integrations", "0006_channel_go_live_at")]
AFTER = [("orders", "0010_go_live_on_channel")]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", SALES_KINDS)
def test_the_first_download_starts_at_the_go_live_date_and_imports_nothing_placed_before(kind, sales, run):
    go_live = EPOCH + timedelta(hours=10)  # the seeded orders are placed every 3 hours from EPOCH
    channel = sales(kind, go_live_at=go_live)
    assert download_start(channel=channel, flow="orders.download") == go_live
    result = run(channel, "orders.download")
    assert result.status == "ok", result.error
    offered = channel_orders(channel)  # everything the channel has, read without a start
    expected = {key for key, order in offered.items() if order.placed_at >= go_live}
    assert set(Order.objects.filter(channel=channel).values_list("external_id", flat=True)) == expected
    assert 0 < len(expected) < len(offered)


@pytest.mark.django_db
def test_the_order_rules_page_shows_the_channels_date_and_links_to_where_it_is_set(admin_client, sales):
    channel = sales("channeladvisor", go_live_at=EPOCH)
    rules = OrderRulesFactory(channel=channel)
    page = admin_client.get(reverse("admin:orders_orderrules_change", args=[rules.pk])).content.decode()
    assert 'name="earliest_order_date' not in page and 'name="go_live' not in page  # no input: shown, not set here
    assert reverse("admin:integrations_channel_change", args=[channel.pk]) in page
    assert "2026-11-01" in page or "Nov. 1, 2026" in page
    assert "set on the channel page" in page
    listing = admin_client.get(reverse("admin:orders_orderrules_changelist")).content.decode()
    assert "set on the channel page" in listing


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_each_order_rules_date_onto_its_channel_and_back():
    executor = _migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        OldChannel, OldRules = old.get_model("integrations", "Channel"), old.get_model("orders", "OrderRules")
        dated = OldChannel.objects.create(name="Dated", slug="dated", kind="channeladvisor")
        undated = OldChannel.objects.create(name="Undated", slug="undated", kind="nuorder")
        OldChannel.objects.create(name="No rules", slug="bare", kind="extensiv")
        OldRules.objects.create(channel=dated, earliest_order_date=EPOCH, ship_to_countries="US")
        OldRules.objects.create(channel=undated)
        _migrate(AFTER)
        moved = dict(Channel.objects.values_list("slug", "go_live_at"))
        assert moved == {"dated": EPOCH, "undated": None, "bare": None}
        assert OrderRules.objects.get(channel__slug="dated").ship_to_countries == "US"

        Channel.objects.filter(slug="bare").update(go_live_at=EPOCH + timedelta(days=1))
        executor = _migrate(BEFORE)  # backwards: each date goes back to the channel's order rules
        back = executor.loader.project_state(BEFORE).apps.get_model("orders", "OrderRules")
        assert dict(back.objects.values_list("channel__slug", "earliest_order_date")) == {
            "dated": EPOCH,
            "undated": None,
            "bare": EPOCH + timedelta(days=1),
        }
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
