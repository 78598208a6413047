"""inventory.upload against the sandboxes over HTTP: absolute and relative pushes, only what changed, the
outbox when the outcome is unknown (no adjustment ever applied twice), dry runs, refusals, fan-out."""

import logging

import pytest
from django.utils import timezone
from django.utils.module_loading import import_string

from catalog.models import ItemMapping
from integrations.connectors import connector_for
from integrations.flows import RunReport
from inventory.models import ChannelWarehouse, Discrepancy, InventoryPolicy, PushIntent, PushLedger
from inventory.pushes import intents_claim
from inventory.quantities import quantities_compute
from inventory.upload import changes_diff, intents_record
from tests.inventory.conftest import run

pytestmark = pytest.mark.django_db
SKU = "1002-RED-X-S"  # listed under its own SKU on every channel, and no bundle's component
CA_UPDATE = r"/v1/Products\(\d+\)/UpdateQuantity"


def stock(sandbox, oms, sku: str, warehouse: str, on_hand: int, allocated: int = 0) -> None:
    """Change the fulfillment system's stock and download it, as the inventory.download schedule would."""
    sandbox.api("oms").set_stock(sku, warehouse, on_hand=on_hand, allocated=allocated)
    run(oms, "inventory.download")


def ledger(channel, sku: str, external_id: str) -> int:
    return PushLedger.objects.get(mapping__channel=channel, mapping__channel_sku=sku,
                                  channel_warehouse__external_id=external_id).quantity  # fmt: skip


def test_first_absolute_push_sets_every_listing_and_writes_the_ledger(sandbox, sales):
    channel = sales("channeladvisor")
    ca = sandbox.api("channeladvisor")
    ca.set_quantity(SKU, "MAIN", 0)  # something the hub must correct
    result = run(channel, "inventory.upload")
    on_hand, allocated = sandbox.world.stock[(SKU, "MAIN")]
    assert ca.quantity(SKU, "MAIN") == on_hand - allocated
    assert ledger(channel, SKU, "11") == on_hand - allocated
    listings = ItemMapping.objects.filter(channel=channel).count()
    assert result.seen == listings * 3  # MAIN, EAST and FBA are each paired with their DC
    assert result.created == listings * 3 and result.failed == 0
    assert set(PushIntent.objects.values_list("state", flat=True)) == {"sent"}


def test_only_what_changed_is_pushed_again(sandbox, sales, oms):
    channel = sales("channeladvisor")
    ca = sandbox.api("channeladvisor")
    run(channel, "inventory.upload")
    ca.calls.clear()
    assert run(channel, "inventory.upload").updated == 0
    assert ca.calls_to("POST", CA_UPDATE) == 0
    stock(sandbox, oms, SKU, "EAST", on_hand=40, allocated=4)
    result = run(channel, "inventory.upload")
    assert (result.updated, result.created) == (1, 0)
    assert ca.calls_to("POST", CA_UPDATE) == 1
    assert ca.quantity(SKU, "EAST") == 36
    assert ca.quantity_updates[-1]["UpdateType"] == "Absolute"


def test_relative_push_sends_the_delta_against_the_ledger(sandbox, sales, oms):
    channel = sales("channeladvisor", push_mode="relative")
    ca = sandbox.api("channeladvisor")
    run(channel, "inventory.upload")  # the baseline is read from the channel; only the bundle differs
    assert {update["ProductID"] for update in ca.quantity_updates} == {ca.product_id("KIT1")}
    assert ledger(channel, SKU, "11") == ca.quantity(SKU, "MAIN")
    before = ca.quantity(SKU, "MAIN")
    on_hand, allocated = sandbox.world.stock[(SKU, "MAIN")]
    stock(sandbox, oms, SKU, "MAIN", on_hand=on_hand - 3, allocated=allocated)
    run(channel, "inventory.upload")
    assert ca.quantity_updates[-1]["UpdateType"] == "Relative"
    assert ca.quantity_updates[-1]["Updates"] == [{"DistributionCenterID": 11, "Quantity": -3}]
    assert ca.quantity(SKU, "MAIN") == before - 3


def test_relative_push_keeps_what_the_channel_sold_in_between(sandbox, sales, oms):
    channel = sales("channeladvisor", push_mode="relative")
    ca = sandbox.api("channeladvisor")
    run(channel, "inventory.upload")
    start = ca.quantity(SKU, "MAIN")
    ca.set_quantity(SKU, "MAIN", start - 2)  # two sold on the channel, not yet in the fulfillment system
    on_hand, allocated = sandbox.world.stock[(SKU, "MAIN")]
    stock(sandbox, oms, SKU, "MAIN", on_hand=on_hand + 10, allocated=allocated)  # a receipt
    run(channel, "inventory.upload")
    assert ca.quantity(SKU, "MAIN") == start - 2 + 10  # adjusted in the same direction, the sale kept


def test_lost_answer_to_a_relative_push_is_settled_by_reading_and_never_applied_twice(sandbox, sales, oms):
    channel, ca, start = _relative_then_stock_up(sandbox, sales, oms, 5)
    # The channel applies the adjustment, then the connection drops: the hub cannot know it was applied.
    ca.inject("drop_after", method="POST", path="UpdateQuantity")
    run(channel, "inventory.upload")
    assert ca.quantity(SKU, "MAIN") == start + 5
    intent = PushIntent.objects.get(mapping__channel_sku=SKU, channel_warehouse__external_id="11", delta=5)
    assert intent.state == "sent"  # settled in the same run by reading the channel back
    assert ledger(channel, SKU, "11") == start + 5
    ca.calls.clear()
    run(channel, "inventory.upload")
    assert ca.calls_to("POST", CA_UPDATE) == 0
    assert ca.quantity(SKU, "MAIN") == start + 5


def test_unknown_outcome_whose_read_back_fails_blocks_the_listing_until_a_later_run_settles_it(sandbox, sales, oms):
    channel = sales("channeladvisor", push_mode="relative")
    ca = sandbox.api("channeladvisor")
    run(channel, "inventory.upload")
    start = ca.quantity(SKU, "MAIN")
    on_hand, allocated = sandbox.world.stock[(SKU, "MAIN")]
    stock(sandbox, oms, SKU, "MAIN", on_hand=on_hand + 4, allocated=allocated)
    ca.inject("drop_after", method="POST", path="UpdateQuantity")
    ca.inject("status", times=50, status=503, method="GET", path="/v1/Products")  # the read-back fails too
    run(channel, "inventory.upload")
    intent = PushIntent.objects.get(mapping__channel_sku=SKU, delta=4)
    assert intent.state == "unknown"
    ca.clear_faults()
    stock(sandbox, oms, SKU, "MAIN", on_hand=on_hand + 6, allocated=allocated)  # changes again meanwhile
    run(channel, "inventory.upload")
    intent.refresh_from_db()
    assert intent.state == "sent"  # the read showed it applied
    assert ca.quantity(SKU, "MAIN") == start + 6  # +4 once, then +2: never +4 twice
    assert [u["Updates"][0]["Quantity"] for u in ca.quantity_updates if u["ProductID"] == ca.product_id(SKU)] == [
        4, 2,
    ]  # fmt: skip


def test_crash_between_the_channels_acceptance_and_the_ledger_write_is_settled_before_anything_is_sent(
    sandbox, sales, oms
):
    channel, ca, start = _relative_then_stock_up(sandbox, sales, oms, 7)
    # The worker records and claims the push and the channel accepts it; then the worker dies: no settle step.
    changes, rules = _changes(channel)
    claim = intents_claim(intents_record(changes, rules))
    claimed = PushIntent.objects.filter(claim=claim)
    connector = connector_for(channel)
    connector.quantities_push([_update(intent) for intent in claimed])
    assert ca.quantity(SKU, "MAIN") == start + 7
    # A fresh run while the dead worker's claim is young leaves the listing alone (it may still be in flight)...
    ca.calls.clear()
    run(channel, "inventory.upload")
    assert ca.calls_to("POST", CA_UPDATE) == 0
    # ...and once the claim is stale, reads the channel and settles it: applied, so nothing is sent again.
    claimed.update(sent_at=claimed.first().sent_at - _hours(1))
    run(channel, "inventory.upload")
    assert ca.calls_to("POST", CA_UPDATE) == 0
    assert ca.quantity(SKU, "MAIN") == start + 7
    assert set(claimed.values_list("state", flat=True)) == {"sent"}
    assert ledger(channel, SKU, "11") == start + 7


def test_an_upload_that_sends_its_own_pushes_records_them_claimed_and_a_crash_before_sending_loses_nothing(
    sandbox, sales, oms
):
    """An upload that sends its pushes itself writes them already `sending` under its claim (no pending step).
    If its worker dies before sending, the pushes wait for the claim to go stale, are settled by reading the
    channel (not applied), and the quantity is sent by the next run: once."""
    channel, ca, start = _relative_then_stock_up(sandbox, sales, oms, 7)
    from inventory.pushes import lease_holder, new_claim

    changes, rules = _changes(channel)
    claim = new_claim()
    ids = intents_record(changes, rules, claim=claim)  # ...and the worker dies here
    recorded = PushIntent.objects.filter(pk__in=ids)
    assert {(i.state, i.claim, i.claimed_by, i.attempts) for i in recorded} == {("sending", claim, lease_holder(), 1)}
    ca.calls.clear()
    run(channel, "inventory.upload")
    assert ca.calls_to("POST", CA_UPDATE) == 0  # the claim is young: the push may still be in flight
    recorded.update(sent_at=recorded.first().sent_at - _hours(1))
    run(channel, "inventory.upload")
    assert ca.calls_to("POST", CA_UPDATE) == 1
    assert ca.quantity(SKU, "MAIN") == start + 7
    assert ledger(channel, SKU, "11") == start + 7
    assert set(recorded.values_list("state", flat=True)) == {"failed"}


def _relative_then_stock_up(sandbox, sales, oms, more: int):
    """A relative ChannelAdvisor channel pushed once, then SKU's MAIN stock up by `more`: (channel, its sandbox,
    the quantity the channel showed before)."""
    channel = sales("channeladvisor", push_mode="relative")
    ca = sandbox.api("channeladvisor")
    run(channel, "inventory.upload")
    start = ca.quantity(SKU, "MAIN")
    on_hand, allocated = sandbox.world.stock[(SKU, "MAIN")]
    stock(sandbox, oms, SKU, "MAIN", on_hand=on_hand + more, allocated=allocated)
    return channel, ca, start


def _changes(channel):
    """What an upload of the channel would record now, and its rules: the steps a worker takes before sending."""
    from inventory.ledger import ledger_for
    from inventory.policies import policy_rules

    rules = policy_rules(InventoryPolicy.objects.get(channel=channel))
    changes, *_ = changes_diff(
        quantities_compute(rules=rules), ledger_for(channel_id=channel.pk), set(), RunReport("x")
    )
    return changes, rules


def _update(intent: PushIntent):
    from integrations.connectors.records import QuantityUpdate

    mapping, cw = intent.mapping, intent.channel_warehouse
    return QuantityUpdate(
        sku=mapping.channel_sku, warehouse_id=cw.external_id, quantity=intent.delta, mode="relative",
        product_id=mapping.channel_product_id,
    )  # fmt: skip


def _hours(n: int):
    from datetime import timedelta

    return timedelta(hours=n)


def test_a_push_that_never_reached_the_channel_is_sent_again_next_run(sandbox, sales, oms):
    channel = sales("channeladvisor")
    ca = sandbox.api("channeladvisor")
    run(channel, "inventory.upload")
    stock(sandbox, oms, SKU, "MAIN", on_hand=50, allocated=0)
    ca.inject("status", times=1, status=400, method="POST", path="UpdateQuantity")
    result = run(channel, "inventory.upload")
    assert result.failed == 1 and channel.issues.get().record_key == f"{SKU}@11"
    assert ca.quantity(SKU, "MAIN") != 50
    run(channel, "inventory.upload")
    assert ca.quantity(SKU, "MAIN") == 50
    assert not channel.issues.filter(status="open").exists()  # the success resolved the issue


def test_extensiv_absolute_push_with_a_refused_row(sandbox, sales, oms):
    channel = sales("extensiv", settings={"adjust_interval": 0})
    om = sandbox.api("extensiv")
    om.remove_stock(SKU, "EAST")  # OM refuses to set stock it has no row for (ERR097)
    result = run(channel, "inventory.upload")
    on_hand, allocated = sandbox.world.stock[(SKU, "MAIN")]
    assert om.quantity(SKU, "MAIN") == on_hand - allocated
    assert result.failed == 1
    [issue] = channel.issues.all()
    assert issue.record_key == f"{SKU}@102" and "ERR097" in issue.message
    assert PushIntent.objects.get(mapping__channel_sku=SKU, channel_warehouse__external_id="102").state == "failed"


def test_nuorder_pushes_ats_and_incoming_as_wip_buckets(sandbox, sales, oms):
    sku, _, _, expected, _ = next(s for s in sandbox.world.supply if s[1] == "MAIN")
    channel = sales("nuorder", incoming_days=365, incoming_as_wip=True)
    api = sandbox.api("nuorder")
    run(channel, "inventory.upload")
    item = sandbox.world.item(sku)
    product = api.product_by_style(item.item_number, item.color_code)
    on_hand, allocated = sandbox.world.stock[(sku, "MAIN")]
    assert api.quantity(product["_id"], "default", item.size) == on_hand - allocated
    wip = sum(q for s, w, q, e, _ in sandbox.world.supply if s == sku and w == "MAIN" and e == expected)
    bucket = max(expected, timezone.localdate()).isoformat()  # an overdue purchase order is due today
    assert api.quantity(product["_id"], "default", item.size, bucket=bucket) == wip
    mapping = ItemMapping.objects.get(channel=channel, item__sku=sku)
    assert PushLedger.objects.get(mapping=mapping, channel_warehouse__external_id="default").incoming == [[bucket, wip]]


def test_dry_run_writes_nothing_and_pushes_nothing_but_says_what_and_why(sandbox, sales, oms):
    channel = sales("channeladvisor", buffer=1)
    ca = sandbox.api("channeladvisor")
    ca.calls.clear()
    report = RunReport(flow="inventory.upload", dry_run=True)
    from integrations.runner import flow_run

    flow_run(channel=channel, flow="inventory.upload", trigger="command", dry_run=True, report=report)
    assert ca.calls_to("POST", CA_UPDATE) == 0
    assert not PushIntent.objects.exists() and not PushLedger.objects.exists()
    on_hand, allocated = sandbox.world.stock[(SKU, "MAIN")]
    line = next(line for line in report.lines if line.startswith(f"{SKU}@11:"))
    expected = max(on_hand - allocated - 1, 0)
    assert line.startswith(f"{SKU}@11: set {expected} (never pushed)")
    assert "available" in line and "safety buffer (1)" in line


def test_debug_logs_carry_no_credential_or_token(sandbox, sales, caplog):
    channel = sales("channeladvisor")
    with caplog.at_level(logging.DEBUG):
        run(channel, "inventory.upload")
    text = caplog.text
    assert "UpdateQuantity" in text  # the calls were logged...
    secrets = [*channel.credentials.values(), *sandbox.api("channeladvisor").tokens]
    assert not [secret for secret in secrets if secret in text]  # ...without a secret


def test_above_the_threshold_the_push_fans_out_into_chunk_tasks_any_worker_runs(sandbox, sales, settings, queued_tasks):
    settings.INVENTORY_FANOUT_LISTINGS = 5
    settings.INVENTORY_CHUNK_LISTINGS = 10
    channel = sales("channeladvisor")
    ca = sandbox.api("channeladvisor")
    ca.set_quantity(SKU, "MAIN", 0)
    listings = ItemMapping.objects.filter(channel=channel).count()
    run(channel, "inventory.upload")
    tasks = queued_tasks()
    assert len(tasks) == -(-listings // 10)
    assert {task["func"] for task in tasks} == {"inventory.tasks.inventory_push_chunk"}
    assert ca.calls_to("POST", CA_UPDATE) == 0  # nothing is sent by the run itself
    assert PushIntent.objects.filter(state="pending").count() == listings * 3
    for task in tasks:  # what a django-q2 worker does with each
        import_string(task["func"])(*task["args"])
    assert set(PushIntent.objects.values_list("state", flat=True)) == {"sent"}
    on_hand, allocated = sandbox.world.stock[(SKU, "MAIN")]
    assert ca.quantity(SKU, "MAIN") == on_hand - allocated
    assert channel.runs.filter(flow="inventory.upload").count() == 1 + len(tasks)


def test_the_next_run_leaves_pushes_still_queued_in_chunks_to_them_and_replaces_only_what_changed(
    sandbox, sales, oms, settings, queued_tasks
):
    """A run that starts while the last one's chunk tasks still wait (the schedule fires again as soon as the
    run that queued them ends) records nothing again for the pushes that still hold; a listing whose quantity
    moved since gets a new push and its queued one is superseded. Each listing is written on the channel once."""
    settings.INVENTORY_FANOUT_LISTINGS = 5
    settings.INVENTORY_CHUNK_LISTINGS = 10
    channel = sales("channeladvisor")
    ca = sandbox.api("channeladvisor")
    run(channel, "inventory.upload")
    first = queued_tasks()
    queued = PushIntent.objects.filter(state="pending").count()
    on_hand, allocated = sandbox.world.stock[(SKU, "MAIN")]
    stock(sandbox, oms, SKU, "MAIN", on_hand=on_hand + 4, allocated=allocated)
    again = run(channel, "inventory.upload")
    assert PushIntent.objects.filter(state="superseded").count() == 1
    assert PushIntent.objects.filter(state="pending").count() == queued - 1
    assert (again.skipped, again.created) == (queued - 1, 1)  # the new push, one listing: sent by the run itself
    assert "still hold: left to its chunk tasks" in again.note
    assert queued_tasks() == first
    for task in first:
        import_string(task["func"])(*task["args"])
    assert set(PushIntent.objects.exclude(state="superseded").values_list("state", flat=True)) == {"sent"}
    # One write per listing from the chunks, and one from the second run for the listing whose stock moved.
    listings = PushIntent.objects.filter(state="sent").values("mapping").distinct().count()
    assert ca.calls_to("POST", CA_UPDATE) == listings + 1
    assert ca.quantity(SKU, "MAIN") == on_hand + 4 - allocated


def test_a_queued_relative_push_whose_ledger_figure_moved_is_replaced_not_sent_with_its_old_delta(
    sandbox, sales, oms, settings, queued_tasks
):
    """A relative push's delta starts from the ledger's figure when it was recorded. If the ledger has moved
    since (a person's "push again" takes the channel's figure), the queued push is superseded and recorded
    again from the new figure, so the channel ends at the computed quantity."""
    channel, ca, start = _relative_then_stock_up(sandbox, sales, oms, 6)
    settings.INVENTORY_FANOUT_LISTINGS = 0  # the one listing's push goes to a chunk task
    run(channel, "inventory.upload")
    queued = PushIntent.objects.get(state="pending", mapping__channel_sku=SKU, channel_warehouse__external_id="11")
    ca.set_quantity(SKU, "MAIN", start + 2)  # the channel moved, and the ledger was set to what it shows
    from inventory.ledger import ledger_write

    ledger_write({(queued.mapping_id, queued.channel_warehouse_id): (start + 2, ())})
    run(channel, "inventory.upload")
    queued.refresh_from_db()
    assert queued.state == "superseded"
    for task in queued_tasks():
        import_string(task["func"])(*task["args"])
    assert ca.quantity(SKU, "MAIN") == start + 6


def test_a_queued_push_older_than_the_task_timeout_is_recorded_again(sandbox, sales, settings, queued_tasks):
    """A chunk task that never came (its queue lost, say) does not keep its listings waiting for ever: once its
    pushes are older than the task timeout the next run supersedes and records them again."""
    settings.INVENTORY_FANOUT_LISTINGS = 5
    settings.INVENTORY_CHUNK_LISTINGS = 10
    channel = sales("channeladvisor")
    run(channel, "inventory.upload")
    lost = list(PushIntent.objects.filter(state="pending").values_list("pk", flat=True))
    PushIntent.objects.filter(pk__in=lost).update(created_at=timezone.now() - _hours(1))
    settings.INVENTORY_SENDING_STALE_SECONDS = 600
    run(channel, "inventory.upload")
    assert set(PushIntent.objects.filter(pk__in=lost).values_list("state", flat=True)) == {"superseded"}
    assert PushIntent.objects.filter(state="pending").count() == len(lost)


def test_extensiv_pushes_above_the_threshold_in_the_run_itself_reading_the_catalog_once(
    sandbox, sales, settings, queued_tasks
):
    """Each Extensiv connector reads every listing and every stock location before its first adjust: chunk
    tasks would each read the whole catalog again, so its push is never split."""
    settings.INVENTORY_FANOUT_LISTINGS = 1
    settings.INVENTORY_CHUNK_LISTINGS = 1
    channel = sales("extensiv", settings={"adjust_interval": 0, "page_size": 1})
    om = sandbox.api("extensiv")
    warehouses = {w for _, w in om.stock}

    run(channel, "inventory.upload")

    assert queued_tasks() == []
    assert om.calls_to("POST", r"/v1\.1/inventory/adjust$") > 0
    assert set(PushIntent.objects.values_list("state", flat=True)) == {"sent"}
    listing_pages, stock_pages = om.calls_to("GET", r"^/v1/listings"), om.calls_to("GET", r"^/v1/inventory")
    assert listing_pages == len(om.listings) + 1  # one page a row (page_size 1) and the empty one: read once
    assert stock_pages == sum(1 for _, w in om.stock if str(w) in {str(x) for x in warehouses}) + len(warehouses)


def test_an_error_in_the_middle_of_a_batch_is_settled_by_reading_what_was_applied(sandbox, sales):
    channel = sales("nuorder")  # one request per product: a batch is several calls
    api = sandbox.api("nuorder")
    for product in api.products.values():  # everything on NuORDER is off by one, so every listing is pushed
        for size in product["sizes"]:
            for warehouse in ("default", "east"):
                api.set_quantity(product["_id"], warehouse, size["size"], 1000)
    second = sorted({m.channel_product_id for m in ItemMapping.objects.filter(channel=channel)})[1]
    api.inject("status", times=10, status=500, method="POST", path=f"/api/inventory/{second}")
    result = run(channel, "inventory.upload")
    states = dict(PushIntent.objects.values_list("mapping__channel_product_id", "state").distinct())
    assert "unknown" not in set(PushIntent.objects.values_list("state", flat=True))  # all settled by the read
    assert states[second] == "failed"
    assert result.created > 0 and result.failed > 0  # the products before the failing one were applied
    api.clear_faults()
    run(channel, "inventory.upload")
    assert not PushIntent.objects.filter(state__in=["pending", "sending", "unknown"]).exists()
    mapping = ItemMapping.objects.filter(channel=channel, channel_product_id=second).select_related("item").first()
    on_hand, allocated = sandbox.world.stock[(mapping.item.sku, "MAIN")]
    assert api.quantity(second, "default", mapping.item.size or "OS") == on_hand - allocated


def test_a_channel_with_no_paired_warehouse_gets_an_issue_saying_so(sales):
    channel = sales("channeladvisor")
    from inventory.models import WarehousePairing

    WarehousePairing.objects.filter(channel_warehouse__channel=channel).delete()
    result = run(channel, "inventory.upload")
    assert result.status == "partial" and result.seen == 0
    assert "Warehouse pairing" in channel.issues.get().message


def test_settled_intents_older_than_the_retention_are_forgotten(sandbox, sales, oms, settings):
    settings.INVENTORY_INTENT_RETENTION_DAYS = 7
    channel = sales("channeladvisor")
    run(channel, "inventory.upload")
    PushIntent.objects.update(created_at=timezone.now() - timezone.timedelta(days=8))
    stock(sandbox, oms, SKU, "MAIN", on_hand=61)
    run(channel, "inventory.upload")
    assert PushIntent.objects.count() == 1  # only the new push; the ledger still holds every quantity
    assert (
        PushLedger.objects.filter(mapping__channel=channel).count()
        == ItemMapping.objects.filter(channel=channel).count() * 3
    )


# A channel warehouse the policy stops feeding: its last quantities must not stay on the channel.


def test_switching_to_combined_mode_pushes_0_once_to_the_warehouses_no_longer_fed(sandbox, sales):
    channel = sales("channeladvisor")
    ca = sandbox.api("channeladvisor")
    run(channel, "inventory.upload")
    assert ca.quantity(SKU, "EAST") > 0
    main = ChannelWarehouse.objects.get(channel=channel, external_id="11")
    InventoryPolicy.objects.filter(channel=channel).update(mode="combined", combined_target=main)

    result = run(channel, "inventory.upload")
    listings = ItemMapping.objects.filter(channel=channel).count()
    assert ca.quantity(SKU, "EAST") == 0 and ca.quantity(SKU, "FBA") == 0
    assert ca.quantity(SKU, "MAIN") == sum(q - a for (sku, _), (q, a) in sandbox.world.stock.items() if sku == SKU)
    assert ledger(channel, SKU, "12") == 0
    assert result.failed == 0 and result.seen == listings * 3

    ca.calls.clear()
    assert run(channel, "inventory.upload").updated == 0  # 0 once, then left alone
    assert ca.calls_to("POST", CA_UPDATE) == 0


def test_a_warehouse_no_longer_fed_stays_reconciled(sandbox, sales):
    channel = sales("channeladvisor")
    ca = sandbox.api("channeladvisor")
    run(channel, "inventory.upload")
    main = ChannelWarehouse.objects.get(channel=channel, external_id="11")
    InventoryPolicy.objects.filter(channel=channel).update(mode="combined", combined_target=main)
    run(channel, "inventory.upload")
    ca.set_quantity(SKU, "EAST", 9)  # sold out there by hand, or a stale figure came back

    run(channel, "inventory.reconcile")
    row = Discrepancy.objects.get(channel=channel, mapping__channel_sku=SKU, channel_warehouse__external_id="12")
    assert (row.hub_quantity, row.channel_quantity) == (0, 9)
