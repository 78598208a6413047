"""The OMS connector's order calls against the sandbox OMS over HTTP: submit (idempotent), find, status, delete."""

import logging
from decimal import Decimal

import pytest

from integrations.connectors.oms import OmsConnector
from integrations.connectors.records import Address, CustomerRef, FulfillmentLine, FulfillmentOrder
from integrations.http import AuthFailed, ClientError, Conflict, NotFound, RetryPolicy

ADDRESS = Address(name="Ann Lee", line1="1 Main St", city="Boston", state="MA", postal_code="02110", country="US")


def make_order(key: str = "switchyard:ca:5001:1", reference: str = "5001", **changes) -> FulfillmentOrder:
    values = {
        "idempotency_key": key,
        "reference": reference,
        "channel": "channeladvisor-sandbox",
        "ship_to": ADDRESS,
        "bill_to": ADDRESS,
        "shipping_method": "UPS Ground",
        "customer": CustomerRef(external_id="C-1", name="Customer 1", email="buyer1@example.com"),
        "lines": (
            FulfillmentLine("L1", "1001-RED-X-S", 2, Decimal("20.00")),
            FulfillmentLine("L2", "GM501", 1, Decimal("9.50")),
        ),
        **changes,
    }
    return FulfillmentOrder(**values)


@pytest.fixture
def oms(sandbox):
    return sandbox.api("oms")


@pytest.fixture
def connector(sandbox, oms):
    connector = OmsConnector(
        base_url=sandbox.url("oms"),
        credentials=oms.credentials,
        settings={"page_size": 10},
        label="oms-orders-test",
        retry=RetryPolicy(backoff=0.01),
        timeout=(1, 1),
    )
    yield connector
    connector.close()


def test_submit_creates_an_open_order_with_the_submitted_lines(connector, oms):
    status = connector.order_submit(make_order())

    assert (status.status, status.locked) == ("open", False)
    stored = oms.orders[status.number]
    assert stored["reference"] == "5001" and stored["idempotency_key"] == "switchyard:ca:5001:1"
    assert [(line["line_ref"], line["sku"], line["quantity"], line["unit_price"]) for line in stored["lines"]] == [
        ("L1", "1001-RED-X-S", 2, "20.00"),
        ("L2", "GM501", 1, "9.50"),
    ]
    assert stored["customer"]["external_id"] == "C-1" and stored["ship_to"]["postal_code"] == "02110"


def test_same_idempotency_key_twice_returns_the_same_order_and_creates_one(connector, oms):
    first = connector.order_submit(make_order())
    second = connector.order_submit(make_order())

    assert second == first
    assert (oms.submits, oms.replays, len(oms.orders)) == (1, 1, 1)


def test_answer_lost_after_the_order_was_created_is_retried_into_exactly_one_order(connector, oms):
    oms.inject("drop_after", method="POST", path="/api/v1/orders$")

    status = connector.order_submit(make_order())

    assert oms.calls_to("POST", "/api/v1/orders$") == 2  # the dropped attempt, then the retry
    assert (oms.submits, oms.replays) == (1, 1)
    assert list(oms.orders) == [status.number]


def test_server_error_on_submit_is_retried(connector, oms):
    oms.inject("status", times=2, status=503, method="POST")

    status = connector.order_submit(make_order())

    assert oms.faults == []  # both 503s were answered, then the third attempt got through
    assert oms.submits == 1 and status.status == "open"


def test_idempotency_key_reused_for_another_order_is_refused(connector, oms):
    connector.order_submit(make_order())

    with pytest.raises(ClientError) as refused:
        connector.order_submit(make_order(reference="5002"))

    assert refused.value.status == 422 and "different order" in refused.value.reason
    assert oms.submits == 1


def test_unknown_sku_is_refused_with_the_sku_named(connector, oms):
    order = make_order(lines=(FulfillmentLine("L1", "NOPE-404", 1),))

    with pytest.raises(ClientError) as refused:
        connector.order_submit(order)

    assert "NOPE-404" in refused.value.reason and oms.orders == {}


def test_order_find_returns_the_order_of_a_key_and_none_for_an_unseen_key(connector):
    submitted = connector.order_submit(make_order())

    assert connector.order_find("switchyard:ca:5001:1") == submitted
    assert connector.order_find("switchyard:ca:9999:1") is None


def test_order_status_reports_batched_orders_as_locked(connector, oms):
    number = connector.order_submit(make_order()).number
    oms.batch(number)

    status = connector.order_status(number)

    assert (status.number, status.status, status.locked) == (number, "batched", True)


def test_order_status_follows_partial_then_full_shipment(connector, oms):
    number = connector.order_submit(make_order()).number
    oms.ship(number, {"L1": 1})
    partial = connector.order_status(number)
    oms.ship(number)

    assert (partial.status, partial.locked) == ("partially_shipped", True)
    assert connector.order_status(number).status == "shipped"


def test_order_status_of_an_unknown_number_is_not_found(connector):
    with pytest.raises(NotFound):
        connector.order_status("SO-999999")


def test_delete_cancels_an_open_order_and_a_repeat_is_harmless(connector, oms):
    number = connector.order_submit(make_order()).number

    connector.order_delete(number)
    connector.order_delete(number)

    assert connector.order_status(number).status == "cancelled"
    assert oms.orders[number]["status"] == "cancelled"


def test_delete_of_a_batched_order_is_a_conflict_with_the_reason(connector, oms):
    number = connector.order_submit(make_order()).number
    oms.batch(number, "B-0042")

    with pytest.raises(Conflict) as refused:
        connector.order_delete(number)

    assert refused.value.status == 409
    assert refused.value.reason == f"Order {number} is in pick batch B-0042 and cannot be deleted."
    assert oms.orders[number]["status"] == "batched"


def test_delete_of_a_shipped_order_is_a_conflict(connector, oms):
    number = connector.order_submit(make_order()).number
    oms.ship(number, {"L2": 1})

    with pytest.raises(Conflict, match="partially shipped"):
        connector.order_delete(number)


def test_wrong_api_key_is_auth_failed(sandbox):
    connector = OmsConnector(base_url=sandbox.url("oms"), credentials={"api_key": "wrong"}, label="oms-bad-key")

    with pytest.raises(AuthFailed, match="API key"):
        connector.order_status("SO-100001")


def test_api_key_never_reaches_the_debug_log(connector, oms, caplog):
    caplog.set_level(logging.DEBUG, logger="integrations.http")
    number = connector.order_submit(make_order()).number
    oms.batch(number)
    connector.order_status(number)
    with pytest.raises(Conflict):
        connector.order_delete(number)
    list(connector.inventory_download(since=None))

    assert len(caplog.records) >= 4
    assert "'Authorization': '[redacted]'" in caplog.text
    assert oms.credentials["api_key"] not in caplog.text


def test_connector_for_a_channel_row_connects_to_the_sandbox(sandbox_channel):
    from integrations.connectors import connector_for

    connector = connector_for(sandbox_channel("oms"))

    assert isinstance(connector, OmsConnector)
    assert connector.test_connection() == "connected; 3 warehouse(s): MAIN, EAST, FBA"
