"""Extensiv Order Manager inventory against the sandbox over HTTP: absolute on-hand sets in batches with
per-row ERR053/ERR097 errors (1-based index), the synced warehouses, listing vs master SKUs, read-back."""

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from integrations.connectors.base import SettingsError
from integrations.connectors.extensiv import ExtensivConnector
from integrations.connectors.records import QuantityUpdate
from integrations.http import BadResponse, RetryPolicy, TransportError

FAST = RetryPolicy(backoff=0.01)
DATA = Path(__file__).parents[1] / "data" / "extensiv"
MAIN, EAST, FBA = "101", "102", "103"


@pytest.fixture
def om(sandbox):
    return sandbox.api("extensiv")


@pytest.fixture
def connect(sandbox, om, request):
    """ExtensivConnector(settings overrides) against the sandbox, as the channel fixtures configure it."""
    made = []

    def make(retry: RetryPolicy = FAST, credentials=None, **settings):
        connector = ExtensivConnector(
            base_url=sandbox.url("extensiv"),
            credentials=dict(om.credentials) if credentials is None else credentials,
            settings={**om.channel_settings, **settings},
            label=f"om-{request.node.name}"[:50],
            retry=retry,
            timeout=(1, 1),
        )
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


def channel_only_listing(om) -> dict:
    """A listing whose SKU differs from its master SKU (matched to the item by UPC only)."""
    return next(row for row in om.listings.values() if row["listingSku"].startswith("CH-"))


def test_push_sets_on_hand_absolutely(connect, om):
    connector = connect(use_listing_sku=False)
    update = QuantityUpdate("1001-RED-X-S", MAIN, 7)

    first, second = connector.quantities_push([update]), connector.quantities_push([update])

    assert first[0].ok and second[0].ok
    assert om.quantity("1001-RED-X-S", "MAIN") == 7  # a set, not an addition
    assert om.adjustments[-1] == {
        "masterSku": "1001-RED-X-S",
        "onHandQuantity": 7,
        "warehouseId": 101,
        "stockLocationName": om.stock[("1001-RED-X-S", 101)]["location"],
    }


def test_unknown_product_is_refused_by_its_1_based_row_and_the_others_apply(connect, om):
    updates = [
        QuantityUpdate("1001-RED-X-S", MAIN, 11),
        QuantityUpdate("GHOST-1", MAIN, 5),
        QuantityUpdate("1001-RED-X-M", MAIN, 12),
    ]

    results = connect(use_listing_sku=False).quantities_push(updates)

    assert [r.ok for r in results] == [True, False, True]
    assert results[1].sku == "GHOST-1" and results[1].error.startswith("ERR053")
    assert (om.quantity("1001-RED-X-S", "MAIN"), om.quantity("1001-RED-X-M", "MAIN")) == (11, 12)


def test_missing_stock_row_is_err097(connect, om):
    om.remove_stock("1001-RED-X-S", "EAST")

    (result,) = connect(use_listing_sku=False).quantities_push([QuantityUpdate("1001-RED-X-S", EAST, 3)])

    assert not result.ok and result.error.startswith("ERR097")


def test_each_warehouse_is_adjusted_at_the_products_own_location_read_once(connect, om):
    sku = "1001-RED-X-S"
    assert om.stock[(sku, 101)]["location"] != "GLOBAL" and om.stock[(sku, 103)]["location"] == "GLOBAL"
    connector = connect(use_listing_sku=False)
    updates = [QuantityUpdate(sku, MAIN, 3), QuantityUpdate(sku, EAST, 4), QuantityUpdate(sku, FBA, 5)]

    assert all(r.ok for r in connector.quantities_push(updates))
    assert all(r.ok for r in connector.quantities_push(updates))

    assert [(a["warehouseId"], a["stockLocationName"]) for a in om.adjustments[:3]] == [
        (w, om.stock[(sku, w)]["location"]) for w in (101, 102, 103)
    ]
    assert (om.quantity(sku, "MAIN"), om.quantity(sku, "EAST"), om.quantity(sku, "FBA")) == (3, 4, 5)
    # one read per warehouse for the connector's life: a page and the empty page that ends it
    assert om.calls_to("GET", r"^/v1/inventory$") == 6


def test_a_moved_stock_row_is_read_again_and_adjusted_at_its_new_location(connect, om):
    sku = "1001-RED-X-S"
    connector = connect(use_listing_sku=False)
    assert connector.quantities_push([QuantityUpdate(sku, MAIN, 3)])[0].ok
    om.move_stock(sku, "MAIN", "B-99")

    (result,) = connector.quantities_push([QuantityUpdate(sku, MAIN, 8)])

    assert result.ok, result.error
    assert om.adjustments[-1]["stockLocationName"] == "B-99" and om.quantity(sku, "MAIN") == 8


def test_a_per_warehouse_location_setting_overrides_what_om_lists(connect, om):
    sku = "1001-RED-X-S"
    name = om.warehouses[101]["name"]
    connector = connect(use_listing_sku=False, stock_locations=[f"{name}=A-01"])
    om.move_stock(sku, "MAIN", "A-01")

    (result,) = connector.quantities_push([QuantityUpdate(sku, MAIN, 6)])

    assert result.ok and om.adjustments[-1]["stockLocationName"] == "A-01"
    assert om.calls_to("GET", r"^/v1/inventory$") == 0


def test_a_wrong_location_override_is_err097_in_that_warehouse_only(connect, om):
    sku = "1001-RED-X-S"
    connector = connect(use_listing_sku=False, stock_locations=["101=NOWHERE"])

    main, fba = connector.quantities_push([QuantityUpdate(sku, MAIN, 3), QuantityUpdate(sku, FBA, 2)])

    assert not main.ok and main.error.startswith("ERR097")
    assert fba.ok and om.quantity(sku, "FBA") == 2


def test_push_is_split_into_batches_of_adjust_batch_size(connect, om):
    skus = [i.sku for i in om.world.sellable[:5]]
    updates = [QuantityUpdate(sku, MAIN, n) for n, sku in enumerate(skus, 1)]

    results = connect(use_listing_sku=False, adjust_batch_size=2).quantities_push(updates)

    assert [r.sku for r in results] == skus and all(r.ok for r in results)
    assert om.calls_to("POST", "/inventory/adjust") == 3
    assert [om.quantity(sku, "MAIN") for sku in skus] == [1, 2, 3, 4, 5]


def test_adjust_batches_are_spaced_by_adjust_interval(connect, om):
    updates = [QuantityUpdate(i.sku, MAIN, 1) for i in om.world.sellable[:3]]
    connector = connect(use_listing_sku=False, adjust_batch_size=1, adjust_interval=0.2)

    started = time.monotonic()
    connector.quantities_push(updates)

    assert time.monotonic() - started >= 0.38  # three batches, two pauses


def test_listing_skus_are_translated_to_master_skus(connect, om):
    listing = channel_only_listing(om)

    (result,) = connect().quantities_push([QuantityUpdate(listing["listingSku"], EAST, 9)])

    assert result.ok and result.sku == listing["listingSku"]
    assert om.quantity(listing["masterSku"], "EAST") == 9


def test_listing_without_a_product_and_unknown_listing_are_refused_without_sending(connect, om):
    results = connect().quantities_push([QuantityUpdate("NOPE-404", MAIN, 1), QuantityUpdate("NEVER-LISTED", MAIN, 1)])

    assert [r.ok for r in results] == [False, False]
    assert "not linked" in results[0].error and "no Order Manager listing" in results[1].error
    assert om.calls_to("POST", "/inventory/adjust") == 0


def test_relative_updates_and_unsynced_warehouses_are_refused_without_sending(connect, om):
    connector = connect(use_listing_sku=False, excluded_warehouses=["Amazon FBA"])

    results = connector.quantities_push(
        [QuantityUpdate("1001-RED-X-S", MAIN, 1, mode="relative"), QuantityUpdate("1001-RED-X-S", FBA, 4)]
    )

    assert [r.ok for r in results] == [False, False]
    assert "relative" in results[0].error and "not synced" in results[1].error
    assert om.calls_to("POST", "/inventory/adjust") == 0


def test_negative_quantity_is_sent_as_zero(connect, om):
    (result,) = connect(use_listing_sku=False).quantities_push([QuantityUpdate("1001-RED-X-S", MAIN, -4)])

    assert result.ok and om.quantity("1001-RED-X-S", "MAIN") == 0


def test_adjust_is_retried_after_a_lost_answer_because_it_sets_absolute_quantities(connect, om):
    om.inject("drop_after", method="POST", path="/inventory/adjust")

    (result,) = connect(use_listing_sku=False).quantities_push([QuantityUpdate("1001-RED-X-S", MAIN, 21)])

    assert result.ok and om.quantity("1001-RED-X-S", "MAIN") == 21
    assert len(om.adjustments) == 2  # applied twice, with the same result


def test_malformed_adjust_answer_is_a_bad_response(connect, om):
    om.inject("malformed", path="/inventory/adjust")

    with pytest.raises(BadResponse):
        connect(use_listing_sku=False).quantities_push([QuantityUpdate("1001-RED-X-S", MAIN, 1)])


def test_sandbox_adjust_answer_matches_the_recorded_sample(om, sandbox):
    rows = [
        {"masterSku": sku, "onHandQuantity": 1, "warehouseId": 101, "stockLocationName": location}
        for sku, location in (
            ("1001-RED-X-S", om.stock[("1001-RED-X-S", 101)]["location"]),
            ("GHOST-1", "GLOBAL"),
            ("1001-RED-X-M", om.stock[("1001-RED-X-M", 101)]["location"]),
        )
    ]
    answer = requests.post(
        sandbox.url("extensiv") + "v1.1/inventory/adjust",
        json=rows,
        headers={"Authorization": f"Bearer {om.credentials['access_token']}"},
        timeout=2,
    ).json()

    assert answer == json.loads((DATA / "adjust_answer.json").read_text())


def test_quantities_download_reads_on_hand_per_synced_warehouse(connect, om):
    om.set_quantity("1001-RED-X-S", "MAIN", 17)
    om.set_quantity("1001-RED-X-S", "EAST", 4)

    rows = list(connect(use_listing_sku=False, excluded_warehouses=["103"]).quantities_download(skus=["1001-RED-X-S"]))

    assert sorted((r.warehouse_id, r.quantity) for r in rows) == [(MAIN, 17), (EAST, 4)]
    assert {r.sku for r in rows} == {"1001-RED-X-S"} and rows[0].product_id == str(
        om.products["1001-RED-X-S"]["productId"]
    )


def test_quantities_download_reports_listing_skus_in_listing_mode(connect, om):
    listing = channel_only_listing(om)
    om.set_quantity(listing["masterSku"], "MAIN", 8)

    rows = list(connect(sync_warehouse="Main warehouse").quantities_download(skus=[listing["listingSku"]]))

    assert [(r.sku, r.warehouse_id, r.quantity) for r in rows] == [(listing["listingSku"], MAIN, 8)]


def test_quantities_download_without_skus_pages_through_every_product(connect, om):
    rows = list(connect(use_listing_sku=False, sync_warehouse=MAIN, page_size=20).quantities_download())

    with_stock = {sku for sku, warehouse in om.stock if warehouse == 101}
    assert {r.sku for r in rows} == with_stock and len(rows) == len(with_stock)
    assert om.calls_to("GET", "/productstocks/total") == len(with_stock) // 20 + 2


def test_read_back_settles_a_push_whose_outcome_was_unknown(connect, om):
    om.inject("drop_after", times=5, method="POST", path="/inventory/adjust")
    connector = connect(use_listing_sku=False, retry=RetryPolicy(attempts=2, backoff=0.01))

    with pytest.raises(TransportError) as caught:
        connector.quantities_push([QuantityUpdate("1001-RED-X-S", MAIN, 33)])
    assert caught.value.outcome_unknown
    (row,) = [r for r in connector.quantities_download(skus=["1001-RED-X-S"]) if r.warehouse_id == MAIN]

    assert row.quantity == 33


def test_warehouses_download_leaves_out_excluded_warehouses(connect):
    warehouses = connect(excluded_warehouses=["amazon fba"]).warehouses_download()

    assert [(w.external_id, w.name) for w in warehouses] == [(MAIN, "Main warehouse"), (EAST, "East coast")]


def test_sync_warehouse_limits_the_channel_to_one_warehouse(connect):
    assert [w.external_id for w in connect(sync_warehouse=EAST).warehouses_download()] == [EAST]


def test_per_sales_channel_mode_needs_a_sync_warehouse(connect):
    with pytest.raises(SettingsError, match="sync_warehouse"):
        connect(inventory_mode="per_sales_channel")

    connector = connect(inventory_mode="per_sales_channel", sync_warehouse=MAIN)
    assert [w.external_id for w in connector.warehouses_download()] == [MAIN]


def test_adjust_batch_size_over_200_is_refused(connect):
    with pytest.raises(SettingsError, match="adjust_batch_size"):
        connect(adjust_batch_size=201)


def test_listings_download_in_listing_mode_carries_listing_skus_and_product_upcs(connect, om):
    listing = channel_only_listing(om)

    listings = {item.sku: item for item in connect(page_size=20).listings_download(since=None)}

    assert set(listings) == {row["listingSku"] for row in om.listings.values()}
    found = listings[listing["listingSku"]]
    assert found.upc == om.products[listing["masterSku"]]["upc"] and found.product_id == str(listing["productId"])
    assert found.data["masterSku"] == listing["masterSku"] and found.data["listingId"] == listing["listingId"]
    assert listings["NOPE-404"].product_id == "" and listings["NOPE-404"].data["masterSku"] is None


def test_listings_download_in_master_mode_gives_each_linked_product_once(connect, om):
    skus = [item.sku for item in connect(use_listing_sku=False).listings_download(since=None)]

    linked = {row["masterSku"] for row in om.listings.values() if row["masterSku"]}
    assert sorted(skus) == sorted(linked)


def test_listings_download_since_reads_only_changed_listings(connect, om):
    listing = channel_only_listing(om)
    listing["lastModified"] = "2026-11-10T00:00:00Z"
    changed = list(connect().listings_download(since=datetime(2026, 11, 9, tzinfo=UTC)))

    assert [item.sku for item in changed] == [listing["listingSku"]]


def test_product_ids_for_sku_in_both_modes(connect, om):
    listing = channel_only_listing(om)

    assert connect().product_ids_for_sku(listing["listingSku"]) == [str(listing["productId"])]
    assert connect(use_listing_sku=False).product_ids_for_sku(listing["masterSku"]) == [str(listing["productId"])]
