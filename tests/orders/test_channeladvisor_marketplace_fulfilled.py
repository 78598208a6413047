"""ChannelAdvisor orders the marketplace fulfils (DistributionCenterTypeRollup ExternallyManaged, e.g. Amazon
FBA) against the sandbox: left out by default, counted skipped with the reason on the run; imported when the
channel's `skip_marketplace_fulfilled` setting is off."""

from contextlib import closing

import pytest

from integrations.connectors import connector_for
from integrations.connectors.records import SkippedRecord
from orders.models import Order

pytestmark = pytest.mark.django_db

SKU = "1001-RED-X-S"


def test_an_fba_order_is_skipped_by_default_and_the_run_says_why(sales, run, sandbox):
    channel = sales("channeladvisor")
    fba = sandbox.api("channeladvisor").add_marketplace_fulfilled_order([(SKU, 2)])
    orders_on_channel = len(sandbox.api("channeladvisor").orders)

    result = run(channel, "orders.download")

    assert result.status == "ok", result.error
    assert not Order.objects.filter(channel=channel, external_id=str(fba["ID"])).exists()
    assert Order.objects.filter(channel=channel).count() == orders_on_channel - 1
    assert result.skipped >= 1
    assert "1 order(s) skipped: fulfilled by the marketplace" in result.note
    assert "skip_marketplace_fulfilled" in result.note


def test_the_connector_yields_the_fba_order_as_skipped_with_its_reason(sales, sandbox):
    channel = sales("channeladvisor")
    fba = sandbox.api("channeladvisor").add_marketplace_fulfilled_order([(SKU, 1)])

    with closing(connector_for(channel)) as connector:
        records = list(connector.orders_download(since=None))

    (skipped,) = [r for r in records if isinstance(r, SkippedRecord)]
    assert skipped.external_id == str(fba["ID"])
    assert "ExternallyManaged" in skipped.reason and skipped.updated_at is not None


def test_with_the_setting_off_the_fba_order_is_imported(sales, run, sandbox):
    channel = sales("channeladvisor")
    channel.settings = {**channel.settings, "skip_marketplace_fulfilled": False}
    channel.save()
    fba = sandbox.api("channeladvisor").add_marketplace_fulfilled_order([(SKU, 1)])

    result = run(channel, "orders.download")

    assert result.status == "ok", result.error
    order = Order.objects.get(channel=channel, external_id=str(fba["ID"]))
    assert order.attributes["distribution_center_type"] == "ExternallyManaged"
    assert "skipped" not in result.note
