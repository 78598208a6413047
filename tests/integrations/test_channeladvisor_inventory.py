"""ChannelAdvisor quantities against the sandbox over HTTP: UpdateQuantity per product with every DC of it
in one call, product IDs by exact SKU, refusals per row, Relative never sent twice, DC quantities and
distribution centers read back."""

import pytest

from integrations.connectors.records import ChannelQuantity, QuantityResult, QuantityUpdate, WarehouseRecord

SKU = "1001-RED-X-S"


@pytest.fixture
def dc(ca):
    return {code: str(ca.dc_id(code)) for code in ("MAIN", "EAST", "FBA")}


def test_absolute_push_sets_each_dc_in_one_call_per_product(connect, ca, dc):
    updates = [
        QuantityUpdate(SKU, dc["MAIN"], 7),
        QuantityUpdate(SKU, dc["EAST"], 3),
        QuantityUpdate("GM501", dc["MAIN"], 9),
    ]

    results = connect().quantities_push(updates)

    assert results == [QuantityResult(u.sku, u.warehouse_id, ok=True) for u in updates]
    assert (ca.quantity(SKU, "MAIN"), ca.quantity(SKU, "EAST"), ca.quantity("GM501", "MAIN")) == (7, 3, 9)
    assert [(u["ProductID"], u["UpdateType"], len(u["Updates"])) for u in ca.quantity_updates] == [
        (ca.product_id(SKU), "Absolute", 2),
        (ca.product_id("GM501"), "Absolute", 1),
    ]


def test_relative_push_adds_to_what_the_channel_has(connect, ca, dc):
    before = ca.quantity(SKU, "MAIN")

    connect().quantities_push([QuantityUpdate(SKU, dc["MAIN"], -2, mode="relative")])

    assert ca.quantity(SKU, "MAIN") == before - 2
    assert ca.quantity_updates[0]["UpdateType"] == "Relative"


def test_update_type_setting_applies_to_absolute_pushes(connect, ca, dc):
    ca.products[ca.product_id(SKU)]["PendingShipmentQuantity"] = 4

    connect(update_type="UnShipped").quantities_push([QuantityUpdate(SKU, dc["MAIN"], 10)])

    assert ca.quantity_updates[0]["UpdateType"] == "UnShipped"
    assert ca.quantity(SKU, "MAIN") == 6  # CA takes what its open orders hold off the unshipped figure


def test_product_id_on_the_update_skips_the_sku_lookup(connect, ca, dc):
    connect().quantities_push([QuantityUpdate(SKU, dc["MAIN"], 5, product_id=str(ca.product_id(SKU)))])

    assert ca.quantity(SKU, "MAIN") == 5
    assert ca.calls_to("GET", "^/v1/Products$") == 0


def test_sku_lookup_matches_case_sensitively(connect, ca, dc):
    ca.add_product(SKU.lower())  # CA's own search would match both

    results = connect().quantities_push([QuantityUpdate(SKU, dc["MAIN"], 5)])

    assert results[0].ok
    assert ca.quantity(SKU, "MAIN") == 5
    assert ca.quantities.get((ca.product_id(SKU.lower()), ca.dc_id("MAIN"))) is None


def test_sku_matching_no_product_is_refused_and_the_rest_still_sent(connect, ca, dc):
    results = connect().quantities_push(
        [QuantityUpdate("NO-SUCH-SKU", dc["MAIN"], 1), QuantityUpdate(SKU, dc["MAIN"], 4)]
    )

    assert results[0] == QuantityResult("NO-SUCH-SKU", dc["MAIN"], ok=False, error=results[0].error)
    assert "no ChannelAdvisor product has SKU 'NO-SUCH-SKU'" in results[0].error
    assert results[1].ok and ca.quantity(SKU, "MAIN") == 4


def test_sku_matching_several_products_is_refused(connect, ca, dc):
    twin = ca.add_product("GM501")

    (result,) = connect().quantities_push([QuantityUpdate("GM501", dc["MAIN"], 1)])

    assert not result.ok
    assert "2 ChannelAdvisor products have SKU 'GM501'" in result.error and str(twin["ID"]) in result.error
    assert ca.quantity_updates == []


def test_warehouse_that_is_not_a_dc_id_is_refused_without_a_call(connect, ca):
    (result,) = connect().quantities_push([QuantityUpdate(SKU, "MAIN", 1, product_id=str(ca.product_id(SKU)))])

    assert not result.ok and "distribution center ID" in result.error
    assert ca.quantity_updates == []


def test_refusal_by_ca_is_a_result_per_row_of_that_product(connect, ca, dc):
    deleted = "19"
    updates = [
        QuantityUpdate(SKU, deleted, 1),
        QuantityUpdate(SKU, dc["MAIN"], 2),
        QuantityUpdate("GM501", dc["MAIN"], 3),
    ]

    results = connect().quantities_push(updates)

    assert [r.ok for r in results] == [False, False, True]
    assert "→ 400" in results[0].error
    assert ca.quantity("GM501", "MAIN") == 3


def test_absolute_push_is_retried_after_a_server_error(connect, ca, dc):
    ca.inject("status", times=1, status=503, method="POST", path="/UpdateQuantity$")

    (result,) = connect().quantities_push([QuantityUpdate(SKU, dc["MAIN"], 8)])

    assert result.ok and ca.quantity(SKU, "MAIN") == 8


def test_relative_push_is_not_retried_after_a_server_error(connect, ca, dc):
    before = ca.quantity(SKU, "MAIN")
    ca.inject("status", times=1, status=503, method="POST", path="/UpdateQuantity$")

    (result,) = connect().quantities_push([QuantityUpdate(SKU, dc["MAIN"], 5, mode="relative")])

    assert not result.ok and "→ 503" in result.error
    assert ca.quantity(SKU, "MAIN") == before
    assert ca.quantity_updates == []


def test_relative_push_with_a_lost_answer_is_applied_once_and_left_unanswered(connect, ca, dc):
    before = ca.quantity(SKU, "MAIN")
    ca.inject("drop_after", method="POST", path="/UpdateQuantity$")
    updates = [QuantityUpdate(SKU, dc["MAIN"], 5, mode="relative"), QuantityUpdate("GM501", dc["MAIN"], 2)]

    results = connect().quantities_push(updates)

    # No result for the row whose outcome is unknown: the inventory flow settles it by reading back.
    assert [(r.sku, r.ok) for r in results] == [("GM501", True)]
    assert ca.quantity(SKU, "MAIN") == before + 5
    assert len([u for u in ca.quantity_updates if u["UpdateType"] == "Relative"]) == 1


def test_quantities_download_reads_every_product_per_dc(connect, ca):
    rows = list(connect().quantities_download())

    assert len(rows) == len(ca.quantities)
    assert {(r.product_id, r.warehouse_id): r.quantity for r in rows} == {
        (str(pid), str(dc_id)): qty for (pid, dc_id), qty in ca.quantities.items()
    }


def test_quantities_download_for_some_skus_matches_them_exactly(connect, ca, dc):
    ca.add_product("gm501")
    ca.set_quantity("GM501", "MAIN", 12)

    rows = list(connect().quantities_download(skus=["GM501", "KIT1"]))

    assert {r.sku for r in rows} == {"GM501", "KIT1"}
    assert ChannelQuantity("GM501", dc["MAIN"], 12, str(ca.product_id("GM501"))) in rows


def test_quantities_download_asks_for_many_skus_in_chunks(connect, ca):
    skus = [p["Sku"] for p in ca.products.values()][:45]

    rows = list(connect().quantities_download(skus=skus))

    assert {r.sku for r in rows} >= {s for s in skus if any(k[0] == ca.product_id(s) for k in ca.quantities)}
    assert ca.calls_to("GET", "^/v1/Products$") == 3


def test_warehouses_download_leaves_out_deleted_dcs(connect, ca):
    warehouses = connect().warehouses_download()

    assert warehouses == [
        WarehouseRecord(str(ca.dc_id("MAIN")), "Main warehouse", "MAIN"),
        WarehouseRecord(str(ca.dc_id("EAST")), "East coast", "EAST"),
        WarehouseRecord(str(ca.dc_id("FBA")), "Amazon FBA", "FBA"),
    ]


def test_rows_of_two_listings_naming_one_product_and_dc_are_one_update(connect, ca, dc):
    product_id = str(ca.product_id(SKU))  # a product whose SKU changed: the hub has a listing for each SKU
    updates = [
        QuantityUpdate(SKU, dc["MAIN"], 7, product_id=product_id),
        QuantityUpdate(f"R-{SKU}", dc["MAIN"], 7, product_id=product_id),
        QuantityUpdate(f"R-{SKU}", dc["EAST"], 2, product_id=product_id),
    ]

    results = connect().quantities_push(updates)

    assert results == [QuantityResult(u.sku, u.warehouse_id, ok=True) for u in updates]
    assert ca.quantity_updates == [
        {
            "ProductID": int(product_id),
            "UpdateType": "Absolute",
            "Updates": [
                {"DistributionCenterID": int(dc["MAIN"]), "Quantity": 7},
                {"DistributionCenterID": int(dc["EAST"]), "Quantity": 2},
            ],
        }
    ]


def test_rows_naming_one_product_and_dc_that_disagree_are_refused_unsent(connect, ca, dc):
    product_id = str(ca.product_id(SKU))
    before = ca.quantity(SKU, "MAIN")
    updates = [
        QuantityUpdate(SKU, dc["MAIN"], before + 3, product_id=product_id),
        QuantityUpdate(f"R-{SKU}", dc["MAIN"], before + 5, product_id=product_id),
        QuantityUpdate(f"R-{SKU}", dc["EAST"], 2, product_id=product_id),
    ]

    results = connect().quantities_push(updates)

    assert [r.ok for r in results] == [False, False, True]
    assert "several listings name ChannelAdvisor product" in results[0].error
    assert ca.quantity(SKU, "MAIN") == before
    assert [len(u["Updates"]) for u in ca.quantity_updates] == [1]  # EAST alone
