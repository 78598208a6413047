"""NuORDER catalog and customers: products upserted on season+style+colour, companies on code."""

from decimal import Decimal

import pytest

from integrations.connectors.nuorder import NuOrderConnector
from integrations.connectors.records import Address, CustomerRecord, Product, ProductSize
from integrations.http import RetryPolicy


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


def _product(**overrides) -> Product:
    values = {
        "style_number": "2001",
        "color": "GRN",
        "name": "Field jacket",
        "external_id": "2001-GRN",
        "wholesale": Decimal("35.50"),
        "retail": Decimal("71.00"),
        "sizes": (ProductSize("S", "412345678901"), ProductSize("M", "412345678902")),
    }
    return Product(**{**values, **overrides})


def test_products_upload_creates_the_product_and_returns_its_id(api, nuorder):
    [result] = nuorder().products_upload([_product()])
    assert result.ok and result.external_id == "2001-GRN"
    stored = api.products[result.channel_id]
    assert (stored["style_number"], stored["color"], stored["season"], stored["name"]) == (
        "2001",
        "GRN",
        api.channel_settings["season"],
        "Field jacket",
    )
    assert stored["pricing"] == {"USD": {"wholesale": 35.5, "retail": 71.0}}
    assert stored["sizes"] == [{"size": "S", "upc": "412345678901"}, {"size": "M", "upc": "412345678902"}]
    assert (stored["active"], stored["archived"]) == (True, False)


def test_products_upload_again_updates_the_same_product(api, nuorder):
    connector = nuorder()
    [first] = connector.products_upload([_product()])
    count = len(api.products)
    [second] = connector.products_upload([_product(name="Field jacket II", active=False)])
    assert second.channel_id == first.channel_id
    assert len(api.products) == count
    assert api.products[first.channel_id]["name"] == "Field jacket II"
    assert (api.products[first.channel_id]["active"], api.products[first.channel_id]["archived"]) == (False, True)


def test_products_upload_updates_a_seeded_style_colour_by_its_key(api, nuorder):
    seeded = api.product_by_style("1001", "RED")
    sizes = tuple(ProductSize(s["size"], s["upc"]) for s in seeded["sizes"])
    [result] = nuorder().products_upload([_product(style_number="1001", color="RED", sizes=sizes, currency="EUR")])
    assert result.channel_id == seeded["_id"]
    assert seeded["pricing"] == {"EUR": {"wholesale": 35.5, "retail": 71.0}}


def test_a_refused_product_is_reported_on_its_row(api, nuorder):
    results = nuorder().products_upload([_product(style_number=""), _product()])
    assert [(r.ok, r.error) for r in results] == [(False, "style_number is required"), (True, "")]
    assert results[1].channel_id in api.products


def test_customers_upload_upserts_the_company_by_code(api, nuorder):
    address = Address(name="Kim", line1="9 Elm St", city="Austin", state="TX", postal_code="78702", country="US")
    customer = CustomerRecord(
        external_id="C-77",
        name="Shop Z",
        code="SHOPZ",
        discount=Decimal("5"),
        billing_addresses=(address,),
        shipping_addresses=(address, Address(line1="1 Dock Rd", city="Dallas", country="US")),
    )
    connector = nuorder()
    [result] = connector.customers_upload([customer])
    stored = api.companies["SHOPZ"]
    assert result.ok and result.channel_id == stored["_id"]
    assert (stored["name"], stored["currency_code"], stored["discount"]) == ("Shop Z", "USD", 5.0)
    assert [(a["type"], a["line_1"], a["zip"]) for a in stored["addresses"]] == [
        ("billing", "9 Elm St", "78702"),
        ("shipping", "9 Elm St", "78702"),
        ("shipping", "1 Dock Rd", ""),
    ]
    [again] = connector.customers_upload([CustomerRecord(external_id="C-77", name="Shop Z Ltd", code="SHOPZ")])
    assert again.channel_id == result.channel_id
    assert api.companies["SHOPZ"]["name"] == "Shop Z Ltd"


def test_a_customer_without_code_is_keyed_by_its_external_id(api, nuorder):
    [result] = nuorder().customers_upload([CustomerRecord(external_id="C-78", name="Shop Y")])
    assert result.ok and api.companies["C-78"]["_id"] == result.channel_id


def test_upload_retries_a_server_error(api, nuorder):
    api.inject("status", times=2, status=503, path="/api/product/new/force")
    [result] = nuorder().products_upload([_product()])
    assert result.ok
    assert api.faults == []  # both 503s were answered
    assert api.calls_to("PUT", r"/api/product/new/force") == 1  # faulted requests are not processed
