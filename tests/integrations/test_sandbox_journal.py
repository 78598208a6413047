"""The sandbox's journal of what it received: the count of side effects a fault test compares, faulted or not."""

import json
from pathlib import Path

import pytest
import requests

from integrations.sandbox.server import Received

ORDER = json.loads((Path(__file__).resolve().parents[1] / "data" / "oms" / "order_request.json").read_text())


@pytest.fixture
def oms(sandbox):
    return sandbox.api("oms")


@pytest.fixture
def submit(sandbox, oms):
    """POST one order to the sandbox OMS; the response, or None when the connection gave no answer."""

    def call(key: str = "journal-1") -> requests.Response | None:
        headers = {"Authorization": f"Bearer {oms.credentials['api_key']}", "Idempotency-Key": key}
        try:
            return requests.post(f"{sandbox.url('oms')}api/v1/orders", json=ORDER, headers=headers, timeout=2)
        except requests.ConnectionError:
            return None

    return call


def test_a_processed_write_is_journalled_as_applied(oms, submit):
    assert submit().status_code == 201
    assert oms.journal == [Received("POST", "/api/v1/orders", 201)]
    assert oms.applied("POST", r"/orders$") == 1


@pytest.mark.parametrize(
    ("fault", "options", "status"),
    [
        ("status", {"status": 503}, 503),
        ("status", {"status": 429, "retry_after": 1}, 429),
        ("malformed", {}, 200),
        ("expired_token", {}, 401),
    ],
)
def test_a_fault_answered_in_place_of_the_api_is_journalled_as_not_processed(oms, submit, fault, options, status):
    oms.inject(fault, method="POST", **options)
    assert submit().status_code == status
    assert oms.journal == [Received("POST", "/api/v1/orders", status, fault, processed=False)]
    assert oms.applied("POST", r"/orders$") == 0 and not oms.orders


@pytest.mark.parametrize("fault", ["drop", "timeout"])
def test_a_dropped_or_timed_out_request_is_journalled_unanswered_and_not_processed(oms, submit, fault):
    oms.inject(fault, method="POST", delay=0.05)
    assert submit() is None
    assert oms.journal == [Received("POST", "/api/v1/orders", None, fault, processed=False, answered=False)]
    assert oms.applied("POST", r"/orders$") == 0


def test_drop_after_is_journalled_as_applied_but_unanswered(oms, submit):
    """The side effect happened and the client never heard: exactly the case a test must count from the journal."""
    oms.inject("drop_after", method="POST")
    assert submit() is None
    assert oms.journal == [Received("POST", "/api/v1/orders", 201, "drop_after", answered=False)]
    assert oms.applied("POST", r"/orders$") == 1 and len(oms.orders) == 1


def test_a_slow_request_is_processed_and_answered(oms, submit):
    oms.inject("slow", method="POST", delay=0.05)
    assert submit().status_code == 201
    assert oms.journal == [Received("POST", "/api/v1/orders", 201, "slow")]


def test_reset_empties_the_journal(sandbox, oms, submit):
    submit()
    sandbox.reset()
    assert oms.journal == [] and oms.calls == []
