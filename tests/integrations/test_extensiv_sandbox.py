"""The Extensiv Order Manager sandbox itself, spoken to with plain requests: what a real client sees
(auth, paging, filters, cancel by query string, external shipments as object or array, quota, one-time codes)."""

import base64

import pytest
import requests


@pytest.fixture
def om(sandbox):
    return sandbox.api("extensiv")


@pytest.fixture
def call(sandbox, om):
    """call(method, path, **requests kwargs) with the sandbox's Bearer token."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {om.credentials['access_token']}"

    def send(method: str, path: str, **kwargs) -> requests.Response:
        return session.request(method, sandbox.url("extensiv") + path.lstrip("/"), timeout=2, **kwargs)

    yield send
    session.close()


def test_calls_without_a_bearer_token_are_401(sandbox):
    response = requests.get(sandbox.url("extensiv") + "v1/warehouses", timeout=2)

    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


def test_pages_are_bare_arrays_ending_with_an_empty_one(call, om):
    pages = [call("GET", "/v1.1/orders", params={"page": p, "limit": 5}).json() for p in (1, 2, 3)]

    assert [len(p) for p in pages] == [5, len(om.orders) - 5, 0]


def test_orders_filter_by_status_number_and_modified_window(call, om):
    awaiting = call("GET", "/v1/orders", params={"status": "AWAITING_SHIPMENT", "warehouseId": 101}).json()
    by_number = call("GET", "/v1.1/orders", params={"orderNumber": "5002"}).json()
    since = om.advance(60)
    om.modify_order(90005, internalNotes="x")
    window = call("GET", "/v1.1/orders", params={"modifiedDateFrom": since.strftime("%Y-%m-%dT%H:%M:%SZ")}).json()

    assert awaiting and all(o["orderStatus"] == "AWAITING_SHIPMENT" for o in awaiting)
    assert all(o["fulfillmentSource"]["warehouseId"] == 101 for o in awaiting)
    assert [o["orderNumber"] for o in by_number] == ["5002"]
    assert [o["orderId"] for o in window] == [90005]


def test_a_bad_date_parameter_is_400(call):
    assert call("GET", "/v1.1/orders", params={"modifiedDateFrom": "yesterday"}).status_code == 400


def test_cancel_takes_its_parameters_from_the_query_string(call, om):
    in_body = call("POST", "/v1/orders/cancel", json={"orderId": 90002})
    cancelled = call("POST", "/v1/orders/cancel", params={"orderId": 90002, "cancelReasonType": "BUYER_CANCELLED"})

    assert in_body.status_code == 404
    assert cancelled.status_code == 200 and om.orders[90002]["orderStatus"] == "CANCELLED"


def test_cancel_refuses_an_unknown_reason_type(call, om):
    response = call("POST", "/v1/orders/cancel", params={"orderNumber": "5002", "cancelReasonType": "BORED"})

    assert response.status_code == 400 and om.order_by_number("5002")["orderStatus"] == "AWAITING_SHIPMENT"


def test_external_shipments_may_be_an_array(call, om):
    body = {
        "notifyCustomer": False,
        "updateChannel": True,
        "shipments": [{"orderId": 90001, "trackingNumber": "T1"}, {"orderId": 90002, "trackingNumber": "T2"}],
    }

    assert call("PUT", "/v1.1/shipment/external", json=body).status_code == 200
    assert (om.orders[90001]["orderStatus"], om.orders[90002]["orderStatus"]) == ("SHIPPED", "SHIPPED")
    listed = call("GET", "/v1/shipments", params={"page": 1, "limit": 50}).json()
    assert [s["trackingNumber"] for s in listed] == ["T1", "T2"]


def test_an_invalid_shipment_in_an_array_changes_nothing(call, om):
    body = {"shipments": [{"orderId": 90001, "trackingNumber": "T1"}, {"orderId": 1, "trackingNumber": "T2"}]}

    assert call("PUT", "/v1.1/shipment/external", json=body).status_code == 404
    assert om.shipments == [] and om.orders[90001]["orderStatus"] == "AWAITING_SHIPMENT"


def test_quota_answers_429_with_the_wait_in_milliseconds(call, om):
    om.set_quota(capacity=1, per_second=0.001, retry_after_ms=1500)

    first, second = call("GET", "/v1/warehouses"), call("GET", "/v1/warehouses")

    assert first.status_code == 200
    assert second.status_code == 429 and second.headers["x-skubana-quota-retryAfter"] == "1500"


def test_injected_429_carries_the_quota_header_in_milliseconds(call, om):
    om.inject("status", status=429, retry_after=2)

    assert call("GET", "/v1/warehouses").headers["x-skubana-quota-retryAfter"] == "2000"


def test_token_endpoint_needs_the_app_key_and_a_one_time_code(sandbox, om):
    url = sandbox.url("extensiv") + "oauth/token"
    basic = {"Authorization": "Basic " + base64.b64encode(f"{om.app_key}:{om.app_secret}".encode()).decode()}
    params = {"grant_type": "authorization_code", "code": om.issue_code(), "redirect_uri": "https://hub.example/cb"}

    first = requests.post(url, params=params, headers=basic, timeout=2)
    again = requests.post(url, params=params, headers=basic, timeout=2)
    wrong_app = requests.post(url, params={**params, "code": om.issue_code()}, auth=("x", "y"), timeout=2)

    assert first.status_code == 200 and first.json()["token_type"] == "bearer"
    assert first.json()["access_token"] in om.tokens
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}
    assert wrong_app.status_code == 401


def test_adjust_refuses_more_than_200_rows(call):
    rows = [{"masterSku": "1001-RED-X-S", "onHandQuantity": 1, "warehouseId": 101, "stockLocationName": "GLOBAL"}] * 201

    assert call("POST", "/v1.1/inventory/adjust", json=rows).status_code == 400


def test_products_filter_by_a_quoted_sku_list(call):
    rows = call("GET", "/v1.1/products", params={"sku": '"1001-RED-X-S","GM501"'}).json()

    assert sorted(p["masterSku"] for p in rows) == ["1001-RED-X-S", "GM501"]
    assert {p["type"] for p in rows} == {"CORE_PRODUCT"}


def test_the_bundle_is_a_bundle_product_with_a_stock_row(call, om):
    (kit,) = call("GET", "/v1.1/products", params={"sku": '"KIT1"'}).json()

    assert kit["type"] == "BUNDLE" and ("KIT1", 101) in om.stock


@pytest.mark.parametrize("path", ["/v1/inventory", "/v1/productstocks/total"])
def test_stock_pages_follow_removed_and_moved_rows(call, om, path):
    """The stock lists keep their sorted keys between pages; a removed row leaves the next page and a moved one
    shows its new location, the way one read of the whole list would."""
    warehouse = next(iter(om.stock))[1]

    def read(limit: int) -> list[dict]:
        rows, number = [], 1
        while chunk := call("GET", path, params={"warehouseId": warehouse, "page": number, "limit": limit}).json():
            rows, number = rows + chunk, number + 1
        return rows

    whole = read(500)
    assert read(2) == whole and len(whole) == sum(1 for _, w in om.stock if w == warehouse)
    gone, moved = sorted(sku for sku, w in om.stock if w == warehouse)[:2]
    om.remove_stock(gone, warehouse)
    om.move_stock(moved, warehouse, "B-07")

    after = read(2)
    assert [r["product"]["masterSku"] for r in after] == [r["product"]["masterSku"] for r in whole[1:]]
    if path == "/v1/inventory":
        assert after[0]["stockLocation"]["location"] == "B-07"
