"""NuORDER inventory: ATS and WIP by purchase-order date, per warehouse and size, one request per product."""

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from integrations.connectors.nuorder import NuOrderConnector
from integrations.connectors.nuorder.parse import channel_sku, quantities_from_product
from integrations.connectors.records import QuantityUpdate
from integrations.http import BadResponse, NotFound, RetryPolicy, TransportError


@pytest.fixture
def api(sandbox):
    return sandbox.api("nuorder")


@pytest.fixture
def nuorder(api):
    made = []

    def make(**settings) -> NuOrderConnector:
        connector = NuOrderConnector(
            base_url=api.base_url,
            credentials=api.credentials,
            settings={**api.channel_settings, **settings},
            label="nuorder-test",
            retry=RetryPolicy(backoff=0.01),
            timeout=(1, 1),
        )
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


def _product(api, style="1001", color="RED") -> dict:
    return api.product_by_style(style, color)


def _update(product, size_index=0, *, warehouse="default", quantity=7, **kwargs) -> QuantityUpdate:
    size = product["sizes"][size_index]
    sku = channel_sku(product["style_number"], product["color"], size["size"], size.get("upc") or "")
    return QuantityUpdate(
        sku=sku,
        warehouse_id=warehouse,
        quantity=quantity,
        product_id=product["_id"],
        size=size["size"],
        upc=size["upc"],
        **kwargs,
    )


def test_push_sets_ats_and_wip_buckets_by_purchase_order_date(api, nuorder):
    product = _product(api)
    update = _update(product, quantity=12, incoming=((date(2026, 12, 15), 40), (date(2027, 1, 10), 25)))
    [result] = nuorder().quantities_push([update])
    assert result.ok and (result.sku, result.warehouse_id) == (update.sku, "default")
    assert api.inventory.buckets(product["_id"], "default", update.size) == {
        "immediate": 12,
        "2026-12-15": 40,
        "2027-01-10": 25,
    }


def test_push_sends_one_request_per_product_with_all_its_sizes_and_warehouses(api, nuorder):
    red, blue = _product(api), _product(api, color="BLUE")
    updates = [_update(red, 0, quantity=1), _update(red, 1, quantity=2), _update(red, 0, warehouse="east", quantity=3)]
    updates.append(_update(blue, 2, quantity=4))
    results = nuorder().quantities_push(updates)
    assert [r.ok for r in results] == [True] * 4
    assert api.calls_to("POST", r"^/api/inventory/") == 2
    assert api.quantity(red["_id"], "default", red["sizes"][1]["size"]) == 2
    assert api.quantity(red["_id"], "east", red["sizes"][0]["size"]) == 3
    assert api.quantity(blue["_id"], "default", blue["sizes"][2]["size"]) == 4


def test_push_is_absolute_and_clears_the_wip_of_the_sizes_it_names(api, nuorder):
    product = _product(api)
    connector = nuorder()
    connector.quantities_push([_update(product, quantity=5, incoming=((date(2026, 12, 15), 40),))])
    connector.quantities_push([_update(product, quantity=9)])
    assert api.inventory.buckets(product["_id"], "default", product["sizes"][0]["size"]) == {"immediate": 9}
    untouched = product["sizes"][1]["size"]
    assert api.quantity(product["_id"], "default", untouched) is not None  # the seeded ATS of another size stays


def test_incoming_on_the_same_date_is_summed(api, nuorder):
    product = _product(api)
    nuorder().quantities_push([_update(product, incoming=((date(2026, 12, 15), 10), (date(2026, 12, 15), 5)))])
    assert api.quantity(product["_id"], "default", product["sizes"][0]["size"], bucket="2026-12-15") == 15


def test_size_without_upc_is_matched_by_name(api, nuorder):
    product = _product(api)
    update = _update(product, quantity=31)
    [result] = nuorder().quantities_push([replace(update, upc="")])
    assert result.ok
    assert api.quantity(product["_id"], "default", update.size) == 31


def test_relative_updates_and_rows_without_a_product_are_refused_without_a_call(api, nuorder):
    product = _product(api)
    results = nuorder().quantities_push(
        [_update(product, mode="relative"), QuantityUpdate(sku="X-1", warehouse_id="default", quantity=1)]
    )
    assert [(r.ok, r.error) for r in results] == [
        (False, "NuORDER takes absolute quantities only"),
        (False, "no NuORDER product id"),
    ]
    assert api.calls_to("POST", r"^/api/inventory/") == 0


def test_a_refused_product_fails_only_its_own_rows(api, nuorder):
    red, blue = _product(api), _product(api, color="BLUE")
    before = api.quantity(red["_id"], "default", red["sizes"][1]["size"])
    results = nuorder().quantities_push(
        [_update(red, warehouse="nowhere"), _update(red, 1, quantity=before + 1), _update(blue, quantity=11)]
    )
    assert [r.ok for r in results] == [False, False, True]
    assert results[0].error == "Unknown warehouse 'nowhere'"
    assert api.quantity(red["_id"], "default", red["sizes"][1]["size"]) == before  # nothing of the refused body
    assert api.quantity(blue["_id"], "default", blue["sizes"][0]["size"]) == 11


def test_a_push_whose_answer_was_lost_is_repeated(api, nuorder):
    product = _product(api)
    api.inject("drop_after", method="POST", path=r"^/api/inventory/")
    [result] = nuorder().quantities_push([_update(product, quantity=17)])
    assert result.ok
    assert api.calls_to("POST", r"^/api/inventory/") == 2
    assert api.quantity(product["_id"], "default", product["sizes"][0]["size"]) == 17


def test_quantities_download_reads_back_the_ats_of_the_given_products(api, nuorder):
    product = _product(api)
    connector = nuorder()
    connector.quantities_push([_update(product, 0, quantity=8), _update(product, 0, warehouse="east", quantity=2)])
    api.set_quantity(product["_id"], "default", product["sizes"][1]["size"], 99)  # NuORDER drifted
    held = {(q.sku, q.warehouse_id): q.quantity for q in connector.quantities_download(product_ids=[product["_id"]])}
    first, second = (s["upc"] for s in product["sizes"][:2])  # every seeded size has a UPC: it is the key
    assert held[(first, "default")] == 8
    assert held[(first, "east")] == 2
    assert held[(second, "default")] == 99
    assert api.calls_to("GET", r"^/api/product/") == 1


def test_quantities_download_without_ids_walks_every_product_and_filters_by_sku(api, nuorder):
    product = _product(api, "1002", "BLUE")
    wanted = product["sizes"][0]["upc"]
    quantities = list(nuorder().quantities_download(skus=[wanted]))
    assert [(q.sku, q.warehouse_id, q.product_id) for q in quantities] == [(wanted, "default", product["_id"])]
    assert api.calls_to("GET", r"^/api/product/") == len(api.products)


def test_warehouses_download_is_the_settings_names_and_calls_nothing(api, nuorder):
    api.calls.clear()
    warehouses = nuorder(warehouses=["default", " east ", "default", ""]).warehouses_download()
    assert [(w.external_id, w.name) for w in warehouses] == [("default", "default"), ("east", "east")]
    assert api.calls == []
    assert [w.external_id for w in nuorder().warehouses_download()] == [w["name"] for w in api.warehouses]


def test_the_sandbox_like_nuorder_documents_no_warehouse_list(nuorder):
    with pytest.raises(NotFound):
        nuorder().http.get("/api/warehouses")


def test_a_push_answered_success_false_fails_its_rows_with_the_channels_message(api, nuorder):
    red, blue = _product(api), _product(api, color="BLUE")
    api.inventory_refusals[red["_id"]] = "Product is locked for editing"
    before = api.quantity(red["_id"], "default", red["sizes"][0]["size"])
    results = nuorder().quantities_push([_update(red, quantity=before + 5), _update(blue, quantity=6)])
    assert [(r.ok, r.error) for r in results] == [(False, "Product is locked for editing"), (True, "")]
    assert api.quantity(red["_id"], "default", red["sizes"][0]["size"]) == before
    assert api.quantity(blue["_id"], "default", blue["sizes"][0]["size"]) == 6


def test_a_200_whose_body_cannot_be_read_is_an_unknown_outcome_not_a_success(api, nuorder):
    product = _product(api)
    api.inject("malformed", method="POST", path=r"^/api/inventory/")
    with pytest.raises(TransportError) as raised:
        nuorder().quantities_push([_update(product, quantity=17)])
    assert raised.value.outcome_unknown
    assert "outcome unknown" in raised.value.reason


PRODUCT = Path(__file__).parents[1] / "data" / "nuorder" / "product_with_warehouses.json"


def test_stock_is_read_from_the_products_warehouses_as_real_products_carry_it(nuorder):
    product = json.loads(PRODUCT.read_text())
    held = {(q.sku, q.warehouse_id): q.quantity for q in quantities_from_product(nuorder().reader, product)}
    assert held == {
        ("840012345671", "default"): 12,  # matched by UPC, keyed by it
        ("4156301-4|TURQUOISE, RED|30x60", "default"): 3,  # no UPC: matched by size name, keyed by its parts
        ("840012345688", "LA-DC"): 7,  # ATS listed directly under the warehouse
    }  # the dated WIP bucket and the prebook entry are not ATS


def test_a_product_without_warehouses_is_a_bad_response_not_zero_rows(nuorder):
    product = {k: v for k, v in json.loads(PRODUCT.read_text()).items() if k != "warehouses"}
    with pytest.raises(BadResponse, match="field 'warehouses' is missing"):
        list(quantities_from_product(nuorder().reader, product))
