"""orders.download against every sales channel's sandbox, over HTTP."""

from contextlib import closing
from datetime import timedelta

import pytest

from integrations.connectors import connector_for
from integrations.cursors import cursor_position
from integrations.flows import RunReport, parse_position
from orders.ingest import OrderIngest
from orders.models import Order, OrderEvent
from orders.sync import OVERLAP, download_start
from tests.orders.conftest import SALES_KINDS, order_shapes
from tests.orders.factories import OrderRulesFactory

pytestmark = pytest.mark.django_db


def connector(channel):
    return closing(connector_for(channel))


def channel_orders(channel):
    with connector(channel) as c:
        return {o.external_id: o for o in c.orders_download(since=None)}


@pytest.mark.parametrize("kind", SALES_KINDS)
def test_download_stores_every_order_whole_with_its_lines(kind, sales, run):
    channel = sales(kind)
    expected = channel_orders(channel)
    result = run(channel, "orders.download")
    assert result.status == "ok", result.error
    shapes = order_shapes(channel)
    assert set(shapes) == set(expected) and expected
    assert all(shapes[key][0] == len(order.lines) for key, order in expected.items())
    assert result.created == len(expected)


@pytest.mark.parametrize("kind", SALES_KINDS)
def test_downloading_again_changes_nothing(kind, sales, run):
    channel = sales(kind)
    run(channel, "orders.download")
    before = list(Order.objects.order_by("pk").values_list("pk", "updated_at", "content_hash"))
    again = run(
        channel, "orders.download", since=download_start(channel=channel, flow="orders.download") - timedelta(days=30)
    )
    assert again.status == "ok" and (again.created, again.updated) == (0, 0)
    assert list(Order.objects.order_by("pk").values_list("pk", "updated_at", "content_hash")) == before
    assert not OrderEvent.objects.exists()


@pytest.mark.parametrize("kind", SALES_KINDS)
def test_the_cursor_moves_to_the_newest_order_and_the_next_run_starts_an_overlap_before_it(kind, sales, run):
    channel = sales(kind)
    newest = max(o.updated_at for o in channel_orders(channel).values())
    run(channel, "orders.download")
    position = parse_position(cursor_position(channel=channel, flow="orders.download"))
    assert position == newest
    assert download_start(channel=channel, flow="orders.download") == newest - OVERLAP


FAULTS = {
    "429": {"kind": "status", "status": 429, "retry_after": 0, "times": 20},
    "500": {"kind": "status", "status": 500, "times": 20},
    "drop": {"kind": "drop", "times": 20},
    "malformed": {"kind": "malformed", "times": 1},
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("kind", SALES_KINDS)
def test_a_fault_mid_download_leaves_no_partial_order_and_the_next_run_loses_none(kind, fault, sales, sandbox, run):
    channel = sales(kind, settings=PAGED[kind])
    expected = channel_orders(channel)
    api = sandbox.api(kind)

    def fail_after_first_order(records):
        for n, record in enumerate(records):
            yield record
            if n == 0:  # the connector has read its first page; the next request meets the fault
                api.inject(**FAULTS[fault])

    report = RunReport(flow="orders.download")
    with connector(channel) as c, pytest.raises(Exception):  # noqa: B017 - each fault raises its own error
        OrderIngest(channel=channel, report=report).run(fail_after_first_order(c.orders_download(since=None)))
    api.clear_faults()
    partial = order_shapes(channel)
    assert partial and len(partial) < len(expected)
    assert all(partial[key][0] == len(expected[key].lines) for key in partial)
    assert cursor_position(channel=channel, flow="orders.download") == ""

    result = run(channel, "orders.download", since=min(o.updated_at for o in expected.values()))
    assert result.status == "ok", result.error
    assert order_shapes(channel) == {**order_shapes(channel), **partial}
    assert {key: shape[0] for key, shape in order_shapes(channel).items()} == {
        key: len(order.lines) for key, order in expected.items()
    }


# Small pages (NuORDER: one request per status), so a fault can fall between two requests.
PAGED = {
    "channeladvisor": {"page_size": 2},
    "nuorder": {"order_statuses": ["approved", "pending"]},
    "extensiv": {"page_size": 2},
}


def test_a_nuorder_channel_limited_to_us_takes_orders_shipping_to_usa_or_united_states(sales, sandbox, run):
    api = sandbox.api("nuorder")
    orders = [o for o in api.orders.values() if o["status"] == "approved"][:3]
    address = {"line_1": "12 Pier Rd", "city": "Portland", "zip": "04101"}
    for order, country in zip(orders, ("USA", "United States", "Poland"), strict=True):
        api.modify_order(order["_id"], shipping_address={**address, "country": country}, edited=False)
    channel = sales("nuorder", settings={"order_statuses": ["approved"]})
    OrderRulesFactory(channel=channel, ship_to_countries="US")
    run(channel, "orders.download")
    stored = {o.external_id: o.ship_to["country"] for o in Order.objects.filter(channel=channel)}
    assert stored[orders[0]["_id"]] == stored[orders[1]["_id"]] == "US"
    assert orders[2]["_id"] not in stored  # Poland: PL, not one of US
