"""The ChannelAdvisor sandbox's own contract, over raw HTTP: the OData query language, envelopes and
links, expanded collections cut at 20, the per-app export flag, Ship and UpdateQuantity validation, and
the rate limits."""

import base64
import threading
from datetime import UTC, datetime

import pytest
import requests

from integrations.sandbox.channeladvisor.odata import ODataError, parse_expand, parse_filter


@pytest.fixture
def ca(sandbox):
    return sandbox.api("channeladvisor")


@pytest.fixture
def http(sandbox, ca):
    """A requests session with a fresh sandbox access token; `http.url(path)` makes absolute URLs."""
    credentials = ca.credentials
    basic = base64.b64encode(f"{credentials['application_id']}:{credentials['shared_secret']}".encode()).decode()
    grant = {"grant_type": "refresh_token", "refresh_token": credentials["refresh_token"]}
    root = sandbox.url("channeladvisor")
    token = requests.post(root + "oauth2/token", data=grant, headers={"Authorization": f"Basic {basic}"}).json()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token['access_token']}"
    session.url = lambda path: root + path.lstrip("/")
    yield session
    session.close()


# The $filter language, without HTTP.

ORDER = {
    "ID": 7,
    "Sku": "ABC-1",
    "Quantity": 3,
    "UpdatedDateUtc": "2026-11-01T10:00:00Z",
    "Note": None,
    "Fulfillments": [{"DistributionCenterID": 11}, {"DistributionCenterID": 12}],
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ID eq 7", True),
        ("ID ne 7", False),
        ("Quantity gt 2 and Quantity lt 4", True),
        ("Quantity ge 4 or Sku eq 'abc-1'", True),  # strings match regardless of case, as CA's search does
        ("not (Sku eq 'ABC-1')", False),
        ("UpdatedDateUtc ge 2026-11-01T09:00:00Z", True),
        ("UpdatedDateUtc ge '2026-11-01T11:00:00Z'", False),  # quoted dates compare as dates too
        ("UpdatedDateUtc le 2026-11-01T10:00:00.000Z", True),
        ("Note eq null", True),
        ("Fulfillments/any(f: f/DistributionCenterID eq 12)", True),
        ("Fulfillments/all(f: f/DistributionCenterID eq 12)", False),
        ("Sku eq 'O''Neil'", False),
    ],
)
def test_filter_expressions(text, expected):
    assert parse_filter(text)(ORDER, {}) is expected


@pytest.mark.parametrize("text", ["ID eq", "ID between 1", "(ID eq 7", "ID eq 7 7"])
def test_malformed_filters_are_refused(text):
    with pytest.raises(ODataError):
        parse_filter(text)(ORDER, {})


def test_unknown_property_in_a_filter_is_refused():
    with pytest.raises(ODataError, match="Could not find a property named 'Bogus'"):
        parse_filter("Bogus eq 1")(ORDER, {})


def test_expand_parses_nested_options():
    assert parse_expand("Items($expand=BundleComponents;$select=ID,Sku),Fulfillments") == {
        "Items": {"expand": {"BundleComponents": {"expand": {}, "select": None}}, "select": ["ID", "Sku"]},
        "Fulfillments": {"expand": {}, "select": None},
    }


# Over HTTP.


def test_list_envelope_has_context_count_and_an_absolute_next_link(http, ca, sandbox):
    ca.page_size = 4

    body = http.get(http.url("v1/Orders"), params={"$count": "true", "$select": "ID"}).json()

    assert body["@odata.context"].endswith("/v1/$metadata#Orders")
    assert body["@odata.count"] == len(ca.orders)
    assert [set(o) for o in body["value"]] == [{"ID"}] * 4
    assert body["@odata.nextLink"].startswith(sandbox.url("channeladvisor") + "v1/Orders?")
    assert "$skip=4" in body["@odata.nextLink"]


def test_page_past_the_end_is_empty(http):
    body = http.get(http.url("v1/Orders"), params={"$skip": "500"}).json()

    assert body["value"] == [] and "@odata.nextLink" not in body


def test_top_and_orderby(http, ca):
    body = http.get(http.url("v1/Orders"), params={"$top": "2", "$orderby": "ID desc", "$select": "ID"}).json()

    assert [o["ID"] for o in body["value"]] == sorted(ca.orders, reverse=True)[:2]


def test_expanded_items_on_a_list_are_cut_at_20_with_a_link(http, ca):
    big = ca.add_order([("GM501", 1)] * 23)

    listed = http.get(http.url("v1/Orders"), params={"$filter": f"ID eq {big['ID']}", "$expand": "Items"}).json()
    single = http.get(http.url(f"v1/Orders({big['ID']})"), params={"$expand": "Items"}).json()
    rest = http.get(listed["value"][0]["Items@odata.nextLink"]).json()

    assert len(listed["value"][0]["Items"]) == 20
    assert len(single["Items"]) == 23 and "Items@odata.nextLink" not in single
    assert [i["ID"] for i in rest["value"]] == [i["ID"] for i in big["Items"][20:]]


def test_collections_are_left_out_unless_expanded(http, ca):
    order = http.get(http.url(f"v1/Orders({min(ca.orders)})")).json()

    assert "Items" not in order and "Fulfillments" not in order
    assert order["@odata.context"].endswith("#Orders/$entity")


def test_products_count_is_a_bare_integer(http, ca):
    assert http.get(http.url("v1/Products/$count")).json() == len(ca.products)


def test_bad_filter_is_a_400_with_an_odata_error(http):
    answer = http.get(http.url("v1/Orders"), params={"$filter": "UpdatedDateUtc ge"})

    assert answer.status_code == 400
    assert "not valid" in answer.json()["error"]["message"]


def test_unknown_or_missing_token_is_401(http, ca):
    assert requests.get(http.url("v1/Profiles")).status_code == 401
    assert requests.get(http.url("v1/Profiles"), headers={"Authorization": "Bearer nope"}).status_code == 401
    ca.expire_tokens()
    assert http.get(http.url("v1/Profiles")).status_code == 401


def test_export_flag_is_kept_per_application(http, ca):
    order_id = min(ca.orders)
    ca.exports["another-app"] = {max(ca.orders)}

    assert http.post(http.url(f"v1/Orders({order_id})/Export"), json={}).status_code == 204
    unexported = http.get(http.url("v1/Orders"), params={"exported": "false", "$select": "ID"}).json()["value"]
    exported = http.get(http.url("v1/Orders"), params={"exported": "true", "$select": "ID"}).json()["value"]

    assert [o["ID"] for o in exported] == [order_id]
    assert order_id not in [o["ID"] for o in unexported] and max(ca.orders) in [o["ID"] for o in unexported]
    assert http.delete(http.url(f"v1/Orders({order_id})/Export")).status_code == 204
    assert ca.exported == set()


def test_ship_refuses_more_than_the_unshipped_quantity(http, ca):
    order = ca.order_by_number("5001")
    item = order["Items"][0]
    value = {"ShippingCarrier": "UPS", "ShippingClass": "Ground", "TrackingNumber": "1Z"}
    value["Items"] = [{"OrderItemID": item["ID"], "Quantity": item["Quantity"] + 1}]

    answer = http.post(http.url(f"v1/Orders({order['ID']})/Ship"), json={"Value": value})

    assert answer.status_code == 400 and "exceeds" in answer.json()["error"]["message"]
    assert ca.orders[order["ID"]]["ShippingStatus"] == "Unshipped"


def test_ship_without_items_ships_everything_open(http, ca):
    order = ca.order_by_number("5001")
    value = {"ShippingCarrier": "FedEx", "ShippingClass": "2Day", "TrackingNumber": "7489"}

    assert http.post(http.url(f"v1/Orders({order['ID']})/Ship"), json={"Value": value}).status_code == 204

    assert ca.orders[order["ID"]]["ShippingStatus"] == "Shipped"
    assert [f["DeliveryStatus"] for f in ca.orders[order["ID"]]["Fulfillments"]] == ["Complete"]


def test_update_quantity_type_is_case_sensitive(http, ca):
    product_id = ca.product_id("GM501")
    value = {"UpdateType": "absolute", "Updates": [{"DistributionCenterID": ca.dc_id("MAIN"), "Quantity": 1}]}

    answer = http.post(http.url(f"v1/Products({product_id})/UpdateQuantity"), json={"Value": value})

    assert answer.status_code == 400 and "UpdateType 'absolute'" in answer.json()["error"]["message"]


def test_update_quantity_complete_dc_list_zeroes_the_others(http, ca):
    product_id = ca.product_id("GM501")
    value = {"UpdateType": "Absolute", "CompleteDCList": True}
    value["Updates"] = [{"DistributionCenterID": ca.dc_id("MAIN"), "Quantity": 6}]

    assert http.post(http.url(f"v1/Products({product_id})/UpdateQuantity"), json={"Value": value}).status_code == 204

    assert (ca.quantity("GM501", "MAIN"), ca.quantity("GM501", "EAST"), ca.quantity("GM501", "FBA")) == (6, 0, 0)


def test_requests_over_the_per_minute_limit_are_429(http, ca):
    ca.rate_limit_per_minute = 3

    statuses = [http.get(http.url("v1/Profiles")).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


def test_requests_over_the_concurrency_cap_are_429(http, ca):
    ca.max_concurrent = 2
    ca.latency = 0.3  # every call takes this long, so the six overlap
    statuses: list[int] = []

    def call() -> None:
        with requests.Session() as session:
            session.headers.update(http.headers)
            statuses.append(session.get(http.url("v1/Profiles")).status_code)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 200, 429, 429, 429, 429]


def test_clock_stamps_changes_after_the_seed(ca):
    latest = max(datetime.fromisoformat(o["UpdatedDateUtc"].replace("Z", "+00:00")) for o in ca.orders.values())

    changed = ca.modify_order(min(ca.orders), PrivateNotes="x")

    assert datetime.fromisoformat(changed["UpdatedDateUtc"].replace("Z", "+00:00")) > latest
    assert ca.clock.tzinfo == UTC
