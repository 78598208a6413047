"""inventory/quantities.py: every quantity source and rule, bundles, pairing modes, set-based queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import MappingStatus
from integrations.models import SyncRun
from inventory.breakdown import quantity_breakdown
from inventory.models import InventoryPolicy
from inventory.policies import policy_rules
from inventory.quantities import InventorySetupError, quantities_compute
from tests.factories import BundleComponentFactory, ChannelFactory, ItemFactory, ItemMappingFactory
from tests.inventory.factories import (
    ChannelWarehouseFactory,
    IncomingSupplyFactory,
    StockLevelFactory,
    WarehouseFactory,
    WarehousePairingFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    """MAIN + EAST feed DC1, EAST alone feeds DC2; FBA feeds nothing. Item A: MAIN 10/2/8, EAST 5/1/4, FBA 100."""
    channel = ChannelFactory()
    main, east, fba = (WarehouseFactory(code=code) for code in ("MAIN", "EAST", "FBA"))
    dc1 = ChannelWarehouseFactory(channel=channel, external_id="1", name="DC1")
    dc2 = ChannelWarehouseFactory(channel=channel, external_id="2", name="DC2")
    for cw, wh in ((dc1, main), (dc1, east), (dc2, east)):
        WarehousePairingFactory(channel_warehouse=cw, warehouse=wh)
    item = ItemFactory(sku="A")
    StockLevelFactory(item=item, warehouse=main, on_hand=10, allocated=2, available=8)
    StockLevelFactory(item=item, warehouse=east, on_hand=5, allocated=1, available=4)
    StockLevelFactory(item=item, warehouse=fba, on_hand=100, allocated=0, available=100)
    listing = ItemMappingFactory(channel=channel, channel_sku="LIST-A", item=item, status=MappingStatus.MAPPED)
    return type("Setup", (), locals())


def compute(channel, **fields):
    excluded = fields.pop("excluded", set())
    policy = InventoryPolicy(channel=channel, **fields)
    calculation = quantities_compute(rules=policy_rules(policy, excluded_warehouse_ids=excluded))
    return {(row.listing.sku, row.target.external_id): row.quantity for row in calculation.quantities()}


def test_available_source_sums_each_channel_warehouses_paired_stock(setup):
    assert compute(setup.channel) == {("LIST-A", "1"): 12, ("LIST-A", "2"): 4}


def test_on_hand_source(setup):
    assert compute(setup.channel, source="on_hand") == {("LIST-A", "1"): 15, ("LIST-A", "2"): 5}


def test_formula_source_over_open_and_incoming(setup):
    soon = timezone.localdate() + timedelta(days=10)
    IncomingSupplyFactory(item=setup.item, warehouse=setup.main, quantity=9, expected_date=soon)
    IncomingSupplyFactory(item=setup.item, warehouse=setup.main, quantity=50, expected_date=soon + timedelta(days=60))
    quantities = compute(setup.channel, source="formula", formula="on_hand - open + incoming_30d * 0.5")
    # DC1: 15 - 3 + 9 * 0.5 = 16.5, rounded down; DC2 has no incoming: 5 - 1.
    assert quantities == {("LIST-A", "1"): 16, ("LIST-A", "2"): 4}


def test_incoming_within_days_adds_only_supply_due_in_the_window(setup):
    today = timezone.localdate()
    IncomingSupplyFactory(item=setup.item, warehouse=setup.east, quantity=7, expected_date=today + timedelta(days=5))
    IncomingSupplyFactory(item=setup.item, warehouse=setup.east, quantity=30, expected_date=today + timedelta(days=40))
    IncomingSupplyFactory(item=setup.item, warehouse=setup.east, quantity=90, expected_date=None)
    assert compute(setup.channel, incoming_days=14) == {("LIST-A", "1"): 19, ("LIST-A", "2"): 11}


def test_incoming_as_wip_buckets_by_purchase_order_date(setup):
    day = timezone.localdate() + timedelta(days=5)
    IncomingSupplyFactory(item=setup.item, warehouse=setup.east, quantity=7, expected_date=day)
    IncomingSupplyFactory(item=setup.item, warehouse=setup.east, quantity=3, expected_date=day)
    policy = InventoryPolicy(channel=setup.channel, incoming_days=30, incoming_as_wip=True)
    rows = {row.target.external_id: row for row in quantities_compute(rules=policy_rules(policy)).quantities()}
    assert rows["2"].quantity == 4  # ATS is not inflated by WIP
    assert rows["2"].wip == ((day.isoformat(), 10),)


def test_buffer_never_goes_below_zero(setup):
    assert compute(setup.channel, buffer=5) == {("LIST-A", "1"): 7, ("LIST-A", "2"): 0}


def test_share_splits_stock_across_channels(setup):
    other = ChannelFactory()
    other_dc = ChannelWarehouseFactory(channel=other, external_id="X")
    WarehousePairingFactory(channel_warehouse=other_dc, warehouse=setup.main)
    WarehousePairingFactory(channel_warehouse=other_dc, warehouse=setup.east)
    ItemMappingFactory(channel=other, channel_sku="OTHER-A", item=setup.item, status=MappingStatus.MAPPED)
    # 12 available: 60% here, 40% there, each rounded down so the two never oversell together.
    assert compute(setup.channel, share_percent=60)[("LIST-A", "1")] == 7
    assert compute(other, share_percent=40) == {("OTHER-A", "X"): 4}


def test_maximum_caps_and_minimum_level_sends_zero(setup):
    assert compute(setup.channel, maximum=10) == {("LIST-A", "1"): 10, ("LIST-A", "2"): 4}
    assert compute(setup.channel, minimum_level=5) == {("LIST-A", "1"): 12, ("LIST-A", "2"): 0}


def test_combined_mode_sums_every_warehouse_but_the_excluded(setup):
    quantities = compute(setup.channel, mode="combined", combined_target=setup.dc1, excluded={setup.fba.pk})
    assert quantities == {("LIST-A", "1"): 12}
    assert compute(setup.channel, mode="combined", combined_target=setup.dc1) == {("LIST-A", "1"): 112}


def test_combined_mode_without_a_target_is_refused_when_the_channel_has_several(setup):
    with pytest.raises(InventorySetupError, match="choose the channel warehouse"):
        compute(setup.channel, mode="combined")


def test_inactive_warehouse_feeds_nothing(setup):
    setup.main.active = False
    setup.main.save()
    assert compute(setup.channel) == {("LIST-A", "1"): 4, ("LIST-A", "2"): 4}


def test_unpaired_channel_warehouse_gets_no_quantity(setup):
    ChannelWarehouseFactory(channel=setup.channel, external_id="3")
    assert ("LIST-A", "3") not in compute(setup.channel)


def test_ignored_unmapped_and_conflicting_listings_get_no_quantity(setup):
    ItemMappingFactory(channel=setup.channel, channel_sku="IGN", item=setup.item, status=MappingStatus.IGNORED)
    ItemMappingFactory(channel=setup.channel, channel_sku="NEW", status=MappingStatus.UNMAPPED)
    ItemMappingFactory(channel=setup.channel, channel_sku="CONF", status=MappingStatus.CONFLICT)
    assert {sku for sku, _ in compute(setup.channel)} == {"LIST-A"}


def test_bundle_is_pre_assembled_stock_plus_what_components_build(setup):
    kit, part = ItemFactory(sku="KIT"), ItemFactory(sku="PART")
    BundleComponentFactory(bundle=kit, component=setup.item, quantity=2)  # A: 12 in DC1 → 6 kits
    BundleComponentFactory(bundle=kit, component=part, quantity=3)  # PART: 20 → 6 kits... 20 // 3 = 6
    StockLevelFactory(item=part, warehouse=setup.main, on_hand=20, allocated=0, available=20)
    StockLevelFactory(item=kit, warehouse=setup.main, on_hand=1, allocated=0, available=1)
    ItemMappingFactory(channel=setup.channel, channel_sku="LIST-KIT", item=kit, status=MappingStatus.MAPPED)
    quantities = compute(setup.channel)
    assert quantities[("LIST-KIT", "1")] == 1 + 6
    assert quantities[("LIST-KIT", "2")] == 0 + 0  # EAST has A (4 → 2 kits) but no PART


def test_bundle_with_a_component_without_stock_is_zero(setup):
    kit, missing = ItemFactory(sku="KIT"), ItemFactory(sku="NO-STOCK")
    BundleComponentFactory(bundle=kit, component=setup.item, quantity=1)
    BundleComponentFactory(bundle=kit, component=missing, quantity=1)
    ItemMappingFactory(channel=setup.channel, channel_sku="LIST-KIT", item=kit, status=MappingStatus.MAPPED)
    assert compute(setup.channel)[("LIST-KIT", "1")] == 0


def _pending_order(channel, item, quantity, status="downloaded", submitted_at=None):
    from orders.models import Order, OrderLine

    order = Order.objects.create(
        channel=channel, external_id=f"O-{quantity}-{status}", number="1", status=status,
        placed_at=timezone.now(), submitted_at=submitted_at,
    )  # fmt: skip
    return OrderLine.objects.create(order=order, external_id="L1", item=item, quantity=quantity)


def test_pending_orders_are_subtracted_until_the_fulfillment_system_allocates_them(setup):
    _pending_order(setup.channel, setup.item, 3)
    _pending_order(setup.channel, setup.item, 1, status="shipped")
    assert compute(setup.channel) == {("LIST-A", "1"): 9, ("LIST-A", "2"): 1}
    assert compute(setup.channel, subtract_pending_orders=False) == {("LIST-A", "1"): 12, ("LIST-A", "2"): 4}


def test_submitted_orders_count_as_pending_only_until_the_next_stock_download(setup):
    run = SyncRun.objects.create(channel=ChannelFactory(), flow="inventory.download", status=SyncRun.Status.OK)
    _pending_order(setup.channel, setup.item, 2, status="submitted", submitted_at=run.started_at - timedelta(hours=1))
    assert compute(setup.channel)[("LIST-A", "1")] == 12  # the snapshot already holds it as allocated
    _pending_order(setup.channel, setup.item, 5, status="submitted", submitted_at=run.started_at + timedelta(hours=1))
    assert compute(setup.channel)[("LIST-A", "1")] == 7


def test_query_count_does_not_grow_with_listings(setup, django_assert_max_num_queries):
    def run() -> int:
        policy = InventoryPolicy(channel=setup.channel)
        return len(list(quantities_compute(rules=policy_rules(policy, excluded_warehouse_ids=set())).quantities()))

    with django_assert_max_num_queries(8) as few:
        assert run() == 2
    for _ in range(30):
        item = ItemFactory()
        StockLevelFactory(item=item, warehouse=setup.main)
        ItemMappingFactory(channel=setup.channel, item=item, status=MappingStatus.MAPPED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert run() == 62


def test_breakdown_explains_the_quantity(setup):
    _pending_order(setup.channel, setup.item, 3)
    policy = InventoryPolicy(channel=setup.channel, buffer=2, share_percent=50)
    breakdowns = quantity_breakdown(rules=policy_rules(policy), mapping=setup.listing)
    dc1 = next(b for b in breakdowns if b.target.external_id == "1")
    assert dc1.quantity == 3  # (12 - 3 pending - 2 buffer) * 50%
    assert {row["code"]: row["available"] for row in dc1.warehouses} == {"MAIN": 8, "EAST": 4}
    assert dc1.steps == [
        ("available", 12),
        ("- pending orders (3)", 9),
        ("- safety buffer (2)", 7),
        ("x share 50%", 3),
    ]


def test_breakdown_shows_formula_terms_and_bundle_components(setup):
    kit = ItemFactory(sku="KIT")
    BundleComponentFactory(bundle=kit, component=setup.item, quantity=5)
    listing = ItemMappingFactory(channel=setup.channel, channel_sku="LIST-KIT", item=kit, status=MappingStatus.MAPPED)
    policy = InventoryPolicy(channel=setup.channel, source="formula", formula="on_hand - open")
    dc1 = next(b for b in quantity_breakdown(rules=policy_rules(policy), mapping=listing) if b.target.name == "DC1")
    assert dc1.components == [{"sku": "A", "quantity": 12, "ratio": 5, "buildable": 2}]
    assert dc1.steps[0] == ("formula on_hand - open", "on_hand = 0, open = 0")
    assert dc1.quantity == 2


def test_many_chosen_listings_are_filtered_after_a_channel_read(setup):
    from catalog.models import Item, ItemMapping
    from inventory.quantities import FILTER_IN_SQL

    items = Item.objects.bulk_create([Item(sku=f"BULK-{i}", item_number=f"B{i}") for i in range(FILTER_IN_SQL + 5)])
    mappings = ItemMapping.objects.bulk_create(
        [ItemMapping(channel=setup.channel, channel_sku=i.sku, item=i, status=MappingStatus.MAPPED) for i in items]
    )
    chosen = [m.pk for m in mappings[1:]] + [setup.listing.pk]
    policy = InventoryPolicy(channel=setup.channel)
    calculation = quantities_compute(rules=policy_rules(policy, excluded_warehouse_ids=set()), mapping_ids=chosen)
    assert {row.listing.mapping_id for row in calculation.quantities()} == set(chosen)
