"""The sandbox OMS itself, over plain HTTP: the contract of docs/oms-api.md and the helpers tests move it with."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
import requests

DATA = Path(__file__).resolve().parents[1] / "data" / "oms"
KEY = "switchyard:channeladvisor-demo:5001:1"


@pytest.fixture
def oms(sandbox):
    return sandbox.api("oms")


@pytest.fixture
def http(sandbox, oms):
    """GET/POST/DELETE on the sandbox OMS with its API key: `http("GET", "orders", params=...)`."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {oms.credentials['api_key']}"

    def call(method: str, path: str, **kwargs) -> requests.Response:
        return session.request(method, f"{sandbox.url('oms')}api/v1/{path}", timeout=5, **kwargs)

    yield call
    session.close()


def sample(name: str):
    return json.loads((DATA / name).read_text())


def submit(http, key: str = KEY, **changes) -> requests.Response:
    return http("POST", "orders", json={**sample("order_request.json"), **changes}, headers={"Idempotency-Key": key})


def paths(value, prefix: str = "") -> set[str]:
    """Every key path in a JSON document (lists by their first element): the shape, not the values."""
    if isinstance(value, dict):
        return {prefix} | {p for k, v in value.items() for p in paths(v, f"{prefix}.{k}")}
    if isinstance(value, list) and value:
        return paths(value[0], f"{prefix}[]")
    return {prefix}


@pytest.mark.parametrize(
    ("sample_file", "path", "params"),
    [
        ("order.json", "orders/SO-100001", {}),
        ("orders_by_key.json", "orders", {"idempotency_key": KEY}),
        ("shipments_page.json", "shipments", {}),
        ("inventory_page.json", "inventory", {"limit": 2}),
        ("supply_page.json", "supply", {"limit": 2}),
        ("items_page.json", "items", {"limit": 2}),
        ("items_bundle_page.json", "items", lambda oms: {"updated_since": oms.items["KIT1"]["updated_at"], "limit": 1}),
        ("warehouses_page.json", "warehouses", {}),
    ],
)
def test_answers_have_the_shape_of_the_recorded_samples(http, oms, sample_file, path, params):
    assert submit(http).status_code == 201
    oms.batch("SO-100001")
    oms.ship("SO-100001", {"L1": 2})

    answer = http("GET", path, params=params(oms) if callable(params) else params).json()

    assert paths(answer) == paths(sample(sample_file))


def test_recorded_error_sample_is_what_a_locked_delete_answers(http, oms):
    submit(http)
    oms.batch("SO-100001")

    answer = http("DELETE", "orders/SO-100001")

    assert answer.status_code == 409
    assert paths(answer.json()) == paths(sample("error_order_locked.json"))
    assert answer.json()["error"]["code"] == "order_locked"


def test_missing_or_wrong_api_key_is_401_with_the_error_shape(sandbox):
    url = f"{sandbox.url('oms')}api/v1/warehouses"
    for headers in ({}, {"Authorization": "Bearer nope"}, {"X-Api-Key": "nope"}):
        answer = requests.get(url, headers=headers, timeout=5)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "unauthorized"


def test_x_api_key_header_is_accepted(sandbox, oms):
    answer = requests.get(
        f"{sandbox.url('oms')}api/v1/warehouses", headers={"X-Api-Key": oms.credentials["api_key"]}, timeout=5
    )

    assert answer.status_code == 200


def test_submit_is_201_then_200_with_the_same_order_for_the_same_key(http, oms):
    first, again = submit(http), submit(http)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert first.headers["Location"] == "/api/v1/orders/SO-100001"
    assert (oms.submits, oms.replays) == (1, 1)


def test_replay_is_answered_even_when_the_body_would_now_be_refused(http, oms):
    first = submit(http)
    del oms.items["GM501"]  # the second line's SKU is gone: a new submission would get 422 unknown_sku

    again = submit(http)

    assert (again.status_code, again.json()) == (200, first.json())


def test_submit_without_idempotency_key_is_400(http, oms):
    answer = http("POST", "orders", json=sample("order_request.json"))

    assert answer.status_code == 400 and answer.json()["error"]["code"] == "idempotency_key_required"
    assert oms.orders == {}


def test_submit_with_an_incomplete_ship_to_is_422_naming_the_field(http):
    ship_to = {**sample("order_request.json")["ship_to"], "postal_code": ""}

    answer = submit(http, ship_to=ship_to)

    assert answer.status_code == 422
    assert answer.json()["error"] == {
        "code": "invalid",
        "message": "ship_to.postal_code is required and must be a string.",
    }


def test_submit_with_a_non_positive_quantity_is_422_naming_the_line(http):
    lines = [{"line_ref": "L1", "sku": "GM501", "quantity": 0, "unit_price": "1.00"}]

    answer = submit(http, lines=lines)

    assert answer.status_code == 422
    assert answer.json()["error"]["message"] == "lines[0].quantity must be a positive integer."


@pytest.mark.parametrize(
    "params",
    [{"limit": "0"}, {"limit": "501"}, {"cursor": "not-a-cursor"}, {"updated_since": "2026-11-01T08:00:00"}],
)
def test_bad_paging_parameters_are_400(http, params):
    answer = http("GET", "items", params=params)

    assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request"


def test_updated_since_is_inclusive_and_rows_come_in_updated_at_order(http, oms):
    stamp = oms.items["GM501"]["updated_at"]

    rows = http("GET", "items", params={"updated_since": stamp.isoformat(), "limit": 500}).json()["data"]

    assert [r["sku"] for r in rows] == ["GM501", "GM502", "KIT1"]
    assert [r["updated_at"] for r in rows] == sorted(r["updated_at"] for r in rows)


def test_cursor_pages_cover_every_row_once(http, oms):
    seen, params = [], {"limit": 7}
    while True:
        body = http("GET", "inventory", params=params).json()
        seen += [(r["sku"], r["warehouse"]) for r in body["data"]]
        if not body["next_cursor"]:
            break
        params["cursor"] = body["next_cursor"]

    assert sorted(seen) == sorted(oms.stock)


def test_ship_more_than_ordered_is_allowed_and_ships_the_order(http, oms):
    submit(http)

    shipment = oms.ship("SO-100001", {"L1": 5, "L2": 1})

    order = oms.orders["SO-100001"]
    assert [line["shipped_quantity"] for line in order["lines"]] == [5, 1]
    assert (order["status"], order["locked"]) == ("shipped", True)
    assert [line["quantity"] for line in shipment["lines"]] == [5, 1]


def test_only_open_orders_can_be_batched(http, oms):
    submit(http)
    oms.cancel("SO-100001")

    with pytest.raises(ValueError, match="cancelled"):
        oms.batch("SO-100001")


def test_http_control_routes_batch_and_ship_an_order(http, oms):
    submit(http)

    batched = http("POST", "_sandbox/orders/SO-100001/batch").json()
    shipped = http("POST", "_sandbox/orders/SO-100001/ship", json={"lines": {"L2": 1}, "tracking": "1ZDEMO"}).json()

    assert (batched["status"], batched["locked"], batched["batch"]) == ("batched", True, "B-0001")
    assert (shipped["tracking_number"], shipped["lines"]) == (
        "1ZDEMO",
        [{"line_ref": "L2", "sku": "GM501", "quantity": 1}],
    )
    assert oms.orders["SO-100001"]["status"] == "partially_shipped"


def test_set_stock_keeps_available_on_hand_minus_allocated_and_stamps_the_row(oms):
    before = oms.clock

    row = oms.set_stock("GM501", "MAIN", on_hand=3, allocated=5)

    assert (row["on_hand"], row["allocated"], row["available"]) == (3, 5, 0)
    assert row["updated_at"] == before + timedelta(seconds=1)


def test_reset_rebuilds_the_same_seeded_state(http, oms):
    seeded = (oms.clock, dict(oms.stock[("GM501", "MAIN")]), len(oms.items), len(oms.supply))
    submit(http)
    oms.set_stock("GM501", "MAIN", on_hand=0)
    oms.add_item("NEW-1")

    oms.reset()

    assert (oms.clock, oms.stock[("GM501", "MAIN")], len(oms.items), len(oms.supply)) == seeded
    assert (oms.orders, oms.shipments, oms.submits) == ({}, {}, 0)
