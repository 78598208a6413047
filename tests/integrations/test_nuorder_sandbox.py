"""The NuORDER sandbox itself, over raw signed HTTP: auth, error shape, status changes, products, inventory."""

import time

import pytest
import requests

from integrations.oauth1 import OAuth1


@pytest.fixture
def api(sandbox):
    return sandbox.api("nuorder")


def _auth(api, *, legacy=False) -> OAuth1:
    creds = api.credentials
    return OAuth1(creds["consumer_key"], creds["consumer_secret"], creds["token"], creds["token_secret"], legacy=legacy)


@pytest.fixture
def call(api):
    session = requests.Session()
    session.auth = _auth(api)

    def request(method: str, path: str, **kwargs) -> requests.Response:
        return session.request(method, api.base_url.rstrip("/") + path, timeout=5, **kwargs)

    yield request
    session.close()


def _approved(api) -> dict:
    return next(o for o in api.orders.values() if o["status"] == "approved")


def test_unsigned_request_is_401_with_code_and_message(api):
    response = requests.get(api.base_url + "api/companies/codes/list", timeout=5)
    assert response.status_code == 401
    assert response.json() == {"code": 401, "message": "Unauthorized: missing OAuth Authorization header"}


def test_a_replayed_signature_is_refused(api):
    prepared = requests.Request("GET", api.base_url + "api/companies/codes/list", auth=_auth(api)).prepare()
    with requests.Session() as session:
        assert session.send(prepared, timeout=5).status_code == 200
        replay = session.send(prepared, timeout=5)
    assert replay.status_code == 401
    assert replay.json()["message"] == "Unauthorized: nonce already used"


def test_nonces_older_than_the_clock_check_are_forgotten_and_recent_ones_kept(api, call):
    """The sandbox keeps the nonces a replay could still use (the clock check refuses older ones) and forgets
    the rest, oldest first, so a long day's calls do not pile up."""
    api.nonces.add(("old", "n1", 1))
    api._nonces_by_arrival.append(("old", "n1", 1))
    assert call("GET", "/api/companies/codes/list").status_code == 200
    assert call("GET", "/api/companies/codes/list").status_code == 200
    assert ("old", "n1", 1) not in api.nonces and len(api.nonces) == len(api._nonces_by_arrival) == 2


class _SignedEarlier(OAuth1):
    """Signs as a recorded call replayed later would be: a fixed old timestamp, a fixed nonce."""

    def __init__(self, api, *, at: float, nonce: str):
        creds = api.credentials
        super().__init__(creds["consumer_key"], creds["consumer_secret"], creds["token"], creds["token_secret"])
        self.at, self.nonce = at, nonce

    def oauth_parameters(self) -> dict[str, str]:
        return {**super().oauth_parameters(), "oauth_timestamp": str(int(self.at)), "oauth_nonce": self.nonce}


def test_a_replay_of_calls_older_than_the_forgetting_keeps_their_nonces(api):
    """A replay of recorded calls (the day bench's floor) raises the clock check to accept old signatures: the
    sandbox keeps those nonces too (it used to forget the call it had just taken and fail on an empty queue),
    and the same signature again is still refused."""
    api.max_skew = 10**6
    url = api.base_url + "api/companies/codes/list"
    signed = [_SignedEarlier(api, at=time.time() - 5000, nonce=f"n{n}") for n in range(2)]
    assert [requests.get(url, auth=auth, timeout=5).status_code for auth in signed] == [200, 200]
    assert requests.get(url, auth=signed[0], timeout=5).status_code == 401


def test_legacy_hex_signature_is_accepted_only_when_enabled(api):
    url = api.base_url + "api/companies/codes/list"
    assert requests.get(url, auth=_auth(api, legacy=True), timeout=5).status_code == 401
    api.accept_legacy = True
    assert requests.get(url, auth=_auth(api, legacy=True), timeout=5).status_code == 200


def test_reset_turns_legacy_acceptance_back_off(sandbox, api):
    api.accept_legacy = True
    sandbox.reset()
    assert api.accept_legacy is False


def test_orders_list_gives_the_ids_in_a_status(api, call):
    ids = call("GET", "/api/orders/pending/list").json()
    assert ids == [o["_id"] for o in api.orders.values() if o["status"] == "pending"] and ids


def test_status_changes_by_path_by_body_and_by_number(api, call):
    order = _approved(api)
    changed = call("POST", f"/api/order/{order['_id']}/pending").json()
    assert changed["_id"] == order["_id"] and changed["status"] == "pending"
    assert call("POST", f"/api/order/{order['_id']}/status", json={"status": "SHIPPED"}).json()["status"] == "shipped"
    assert call("PUT", f"/api/order/number/{order['order_number']}/approved").json()["status"] == "approved"
    number_status = call("POST", f"/api/order/number/{order['order_number']}/status", json={"status": "cancel"})
    assert number_status.json()["status"] == "cancelled"


def test_unknown_status_is_400(api, call):
    response = call("POST", f"/api/order/{_approved(api)['_id']}/teleported")
    assert response.status_code == 400
    assert response.json() == {"code": 400, "message": "Unknown order status 'teleported'"}


def test_a_status_change_moves_modified_on_forward(api, call):
    order = _approved(api)
    before = order["modified_on"]
    after = call("POST", f"/api/order/{order['_id']}/processed").json()["modified_on"]
    assert after > before


def test_set_field_takes_an_encoded_value(api, call):
    order = _approved(api)
    assert call("POST", f"/api/order/{order['_id']}/set/order_number/FUL%2F77").json()["order_number"] == "FUL/77"
    assert call("GET", "/api/order/number/FUL%2F77").json()["_id"] == order["_id"]


def test_partial_update_refuses_malformed_shipments(api, call):
    response = call("POST", f"/api/order/{_approved(api)['_id']}", json={"shipments": {"tracking_numbers": []}})
    assert response.status_code == 400
    assert "shipments must be a list" in response.json()["message"]


def test_unknown_ids_are_404(call):
    for method, path in (
        ("GET", "/api/order/6bffffffffffffffffffffff"),
        ("GET", "/api/order/number/NOPE"),
        ("GET", "/api/product/6affffffffffffffffffffff"),
        ("POST", "/api/inventory/6affffffffffffffffffffff"),
        ("GET", "/api/company/6cffffffffffffffffffffff"),
    ):
        response = call(method, path, json={"inventory": []} if method == "POST" else None)
        assert response.status_code == 404, path
        assert response.json()["code"] == 404


def test_product_create_is_201_and_a_duplicate_key_409(api, call):
    body = {"style_number": "3001", "color": "TAN", "season": "FW26", "name": "Chino", "sizes": [{"size": "30"}]}
    created = call("PUT", "/api/product/new", json=body)
    assert created.status_code == 201 and created.json()["_id"] in api.products
    duplicate = call("PUT", "/api/product/new", json=body)
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == 409
    assert call("PUT", "/api/product/new", json={**body, "season": "SS27"}).status_code == 201


def test_product_update_then_get_shows_it_with_its_warehouses_stock(api, call):
    product = api.product_by_style("1001", "RED")
    assert call("POST", f"/api/product/{product['_id']}", json={"name": "Renamed"}).status_code == 200
    served = call("GET", f"/api/product/{product['_id']}").json()
    assert served["name"] == "Renamed"
    assert served["warehouses"][0]["warehouse"] == "default"
    assert served["warehouses"][0]["wip"][0]["name"] == "immediate"


def test_inventory_by_external_id_answers_success_and_keeps_the_quantity(api, call):
    product = api.product_by_style("1001", "RED")
    size = product["sizes"][0]
    body = {
        "inventory": [
            {"warehouse": "east", "prebook": False, "wip": [{"name": "immediate", "sizes": [size | {"quantity": 6}]}]}
        ]
    }
    response = call("POST", f"/api/inventory/external_id/{product['external_id']}", json=body)
    assert response.json() == {"success": True}
    assert api.quantity(product["_id"], "east", size["size"]) == 6


def test_inventory_with_an_unknown_size_or_a_bad_quantity_is_400_and_changes_nothing(api, call):
    product = api.product_by_style("1001", "RED")
    before = dict(api.inventory.cells)
    good = {"size": product["sizes"][0]["size"], "quantity": 1}
    for sizes in ([good, {"upc": "999", "quantity": 1}], [good, {"size": good["size"], "quantity": "1"}]):
        body = {"inventory": [{"warehouse": "default", "wip": [{"name": "immediate", "sizes": sizes}]}]}
        assert call("POST", f"/api/inventory/{product['_id']}", json=body).status_code == 400
    assert api.inventory.cells == before


def test_company_upsert_and_codes_list(api, call):
    created = call("PUT", "/api/company/new/force", json={"name": "Shop Q", "code": "SHOPQ", "currency_code": "USD"})
    assert created.status_code == 200
    assert "SHOPQ" in call("GET", "/api/companies/codes/list").json()
    assert call("GET", f"/api/company/{created.json()['_id']}").json()["name"] == "Shop Q"
    assert call("PUT", "/api/company/new/force", json={"name": "No code"}).status_code == 400


def test_helpers_add_and_cancel_orders(api):
    sku = api.world.sellable[1].sku
    added = api.add_order(lines=[(sku, 2)], number="7001")
    assert api.order_by_number("7001") is added and added["status"] == "approved"
    ordered = [s for item in added["line_items"] for s in item["sizes"] if s["quantity"]]
    assert [(s["upc"], s["quantity"]) for s in ordered] == [(api.world.item(sku).upc, 2)]
    assert api.cancel_order(added["_id"])["status"] == "cancelled"
    assert api.product_for_upc(api.world.item(sku).upc)["_id"] == added["line_items"][0]["product"]["_id"]
