"""orders/ingest.py on records built in memory: what an upsert writes, and what it must not."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import ItemMapping, MappingStatus
from integrations.connectors.records import BadRecord, BundlePart, CustomerRef
from integrations.flows import RunReport
from orders.ingest import OrderIngest
from orders.models import Customer, EventKind, Order, OrderEvent, OrderLine, OrderStatus
from tests.factories import BundleComponentFactory, ChannelFactory, ItemFactory, ItemMappingFactory
from tests.orders.factories import PLACED, OrderRulesFactory, address, line_record, order_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel():
    return ChannelFactory(slug="shop")


@pytest.fixture
def mapped(channel):
    """SKU-1 and SKU-2 mapped to active items."""
    return {
        sku: ItemMappingFactory(channel=channel, channel_sku=sku, item=ItemFactory(), status=MappingStatus.MAPPED)
        for sku in ("SKU-1", "SKU-2")
    }


def ingest(channel, *records, dry_run=False, report=None):
    report = report or RunReport(flow="orders.download")
    totals = OrderIngest(channel=channel, report=report, dry_run=dry_run).run(records)
    return report, totals


def test_new_orders_are_stored_with_lines_customer_and_mapping(channel, mapped):
    record = order_record("1", line_record("a", "SKU-1", 2), line_record("b", "SKU-2", 1, "5.50"))
    report, _ = ingest(channel, record)
    order = Order.objects.get(channel=channel, external_id="1")
    lines = {line.external_id: line for line in order.lines.all()}
    assert (order.number, order.status, order.customer.external_id) == ("N1", OrderStatus.DOWNLOADED, "C-1")
    assert (lines["a"].item, lines["a"].mapping, lines["a"].quantity) == (mapped["SKU-1"].item, mapped["SKU-1"], 2)
    assert lines["b"].unit_price == Decimal("5.50")
    assert order.ship_to["city"] == "Durham" and order.raw == {"id": "1"}
    assert (report.seen, report.created, report.updated) == (1, 1, 0)


def test_the_same_orders_again_write_nothing(channel, mapped):
    records = [order_record(str(n), line_record("a", "SKU-1")) for n in range(20)]
    ingest(channel, *records)
    before = list(Order.objects.values_list("pk", "updated_at", "content_hash"))
    with CaptureQueriesContext(connection) as queries:
        report, totals = ingest(channel, *records)
    writes = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert writes == []
    assert list(Order.objects.values_list("pk", "updated_at", "content_hash")) == before
    assert (totals.count("unchanged"), report.created, report.updated) == (20, 0, 0)


def test_a_chunk_reads_its_orders_by_key_not_by_walking_the_channel(channel, mapped):
    """The re-run's read of a chunk's orders has no ORDER BY: with the model's (-placed_at, -id) SQLite walked all
    the channel's orders through order_channel_placed_idx to skip a sort, per chunk (docs/benchmarks.md)."""
    records = [order_record(str(n), line_record("a", "SKU-1")) for n in range(20)]
    ingest(channel, *records)
    with CaptureQueriesContext(connection) as queries:
        ingest(channel, *records)
    (read,) = [q["sql"] for q in queries if 'FROM "orders_order"' in q["sql"]]
    assert "ORDER BY" not in read
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {read}")
            plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
        assert "(channel_id=? AND external_id=?)" in plan, plan


def test_a_changed_order_not_yet_submitted_is_updated_and_its_lines_replaced(channel, mapped):
    ingest(channel, order_record("1", line_record("a", "SKU-1", 1)))
    changed = order_record("1", line_record("b", "SKU-2", 3), shipping_method="FedEx 2Day")
    report, _ = ingest(channel, changed)
    order = Order.objects.get(external_id="1")
    assert order.shipping_method == "FedEx 2Day"
    assert list(order.lines.values_list("external_id", "quantity")) == [("b", 3)]
    assert order.events.filter(kind=EventKind.CHANGED).exists()
    assert report.updated == 1


def test_a_changed_order_after_submission_is_flagged_with_an_event_and_left_as_submitted(channel, mapped):
    ingest(channel, order_record("1", line_record("a", "SKU-1", 1)))
    Order.objects.filter(external_id="1").update(status=OrderStatus.SUBMITTED, fulfillment_number="SO-1")
    ingest(channel, order_record("1", line_record("a", "SKU-1", 5), number="N1-renamed"))
    order = Order.objects.get(external_id="1")
    assert order.changed_after_submit
    assert order.lines.get().quantity == 1  # what the fulfillment system has
    assert order.number == "N1-renamed"  # the channel's own fields follow
    assert "delete and resubmit" in order.events.get(kind=EventKind.CHANGED).message


def test_a_status_change_after_submission_is_not_a_content_change(channel, mapped):
    ingest(channel, order_record("1", line_record("a", "SKU-1")))
    Order.objects.filter(external_id="1").update(status=OrderStatus.SUBMITTED)
    ingest(channel, order_record("1", line_record("a", "SKU-1"), status="processed"))
    order = Order.objects.get(external_id="1")
    assert (order.channel_status, order.changed_after_submit) == ("processed", False)
    assert not order.events.exists()


def test_a_bundle_is_split_into_component_lines_from_the_hubs_bundle_components(channel):
    kit = ItemFactory(sku="KIT1")
    part_a, part_b = ItemFactory(sku="A"), ItemFactory(sku="B")
    BundleComponentFactory(bundle=kit, component=part_a, quantity=2)
    BundleComponentFactory(bundle=kit, component=part_b, quantity=1)
    ItemMappingFactory(channel=channel, channel_sku="KIT-1", item=kit, status=MappingStatus.MAPPED)
    # The channel's own idea of the parts is ignored: the hub's BundleComponent decides.
    line = line_record("k", "KIT-1", 3, is_bundle=True, bundle_parts=(BundlePart("OTHER", 9),))
    ingest(channel, order_record("1", line))
    parent = OrderLine.objects.get(external_id="k")
    components = {c.item.sku: c.quantity for c in parent.components.all()}
    assert parent.is_bundle and parent.item == kit
    assert components == {"A": 6, "B": 3}


def test_orders_placed_before_the_go_live_date_are_never_imported(channel, mapped):
    channel.go_live_at = PLACED + timedelta(days=1)  # the channel's date, whether or not it has order rules
    channel.save()
    old = order_record("old", placed_at=PLACED)
    new = order_record("new", placed_at=PLACED + timedelta(days=2))
    report, _ = ingest(channel, old, new)
    assert list(Order.objects.values_list("external_id", flat=True)) == ["new"]
    assert report.skipped == 1


def test_ship_to_country_and_tag_rules_keep_other_orders_out(channel, mapped):
    OrderRulesFactory(channel=channel, ship_to_countries="us, ca", required_tags="Wholesale")
    ok = order_record("ok", attributes={"tags": ["wholesale", "rush"]})
    labelled = order_record("labelled", attributes={"order_tags": ["WHOLESALE"]})
    abroad = order_record("abroad", ship_to=address(country="FR"), attributes={"tags": ["wholesale"]})
    untagged = order_record("untagged")
    ingest(channel, ok, labelled, abroad, untagged)
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["labelled", "ok"]


def test_a_bad_record_goes_to_the_issue_queue_and_the_rest_are_stored(channel, mapped):
    bad = order_record("bad", line_record("a", "SKU-1", -1))
    unreadable = BadRecord(external_id="99", reason="field 'Items' is missing in order 99", raw={"ID": 99})
    report, _ = ingest(channel, order_record("1"), bad, unreadable, order_record("2"))
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["1", "2"]
    issues = {issue.record_key: issue.message for issue in report.issues}
    assert "negative quantity" in issues["bad"]
    assert "field 'Items' is missing" in issues["99"]


def test_a_source_failing_midway_keeps_the_orders_it_delivered_whole(channel, mapped):
    def source():
        yield order_record("1", line_record("a", "SKU-1"), line_record("b", "SKU-2"))
        yield order_record("2", line_record("a", "SKU-1"))
        raise ConnectionError("the channel went away")

    with pytest.raises(ConnectionError):
        OrderIngest(channel=channel, report=RunReport(flow="orders.download")).run(source())
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["1", "2"]
    assert OrderLine.objects.filter(order__external_id="1").count() == 2


def test_an_unknown_sku_becomes_a_listing_auto_mapped_by_upc(channel):
    item = ItemFactory(upc="400000000099")
    ingest(channel, order_record("1", line_record("a", "NEW-SKU", upc="400000000099")))
    mapping = ItemMapping.objects.get(channel=channel, channel_sku="NEW-SKU")
    assert (mapping.status, mapping.item) == (MappingStatus.MAPPED, item)
    assert OrderLine.objects.get().item == item


def test_a_dry_run_reports_what_it_would_do_and_writes_nothing(channel, mapped):
    report, _ = ingest(channel, order_record("1"), order_record("2"), dry_run=True)
    assert not Order.objects.exists() and not Customer.objects.exists()
    assert report.created == 2
    assert any("create" in line and "N1" in line for line in report.lines)


def test_an_order_cancelled_before_submission_is_cancelled_here(channel, mapped):
    ingest(channel, order_record("1"))
    ingest(channel, order_record("1", cancelled=True, status="cancelled"))
    order = Order.objects.get()
    assert order.status == OrderStatus.CANCELLED
    assert order.events.get(to_status="cancelled").message == "Cancelled on the channel."


def test_an_order_cancelled_after_the_warehouse_batched_it_is_kept_flagged_and_queued(channel, mapped):
    ingest(channel, order_record("1"))
    Order.objects.update(status=OrderStatus.BATCHED, fulfillment_number="SO-1")
    report, _ = ingest(channel, order_record("1", cancelled=True, status="cancelled"))
    order = Order.objects.get()
    assert (order.status, order.cancel_requested) == (OrderStatus.BATCHED, True)
    assert "kept" in order.events.get(kind=EventKind.CANCEL).message
    assert [issue.record_key for issue in report.issues] == ["1"]


def test_a_new_cancelled_order_is_not_imported(channel, mapped):
    report, _ = ingest(channel, order_record("1", cancelled=True))
    assert not Order.objects.exists()
    assert report.skipped == 1


def test_customers_are_upserted_once_per_channel(channel, mapped):
    ref = CustomerRef(external_id="C-9", name="Nine")
    ingest(channel, order_record("1", customer=ref), order_record("2", customer=ref))
    ingest(channel, order_record("3", customer=CustomerRef(external_id="C-9", name="Nine Ltd")))
    customer = Customer.objects.get()
    assert customer.name == "Nine Ltd"
    assert set(customer.orders.values_list("external_id", flat=True)) == {"1", "2", "3"}


def test_a_record_repeated_in_one_download_is_stored_once(channel, mapped):
    ingest(channel, order_record("1"), order_record("1"))
    assert Order.objects.count() == 1
    assert OrderEvent.objects.count() == 0


def test_attributes_that_are_not_plain_json_are_stored_as_text(channel, mapped):
    ingest(channel, order_record("1", attributes={"discount": Decimal("5.50"), "ship_by": PLACED.date()}))
    assert Order.objects.get().attributes == {"discount": "5.50", "ship_by": "2026-11-01"}
