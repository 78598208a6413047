"""NuORDER connector transport: OAuth 1.0a on every call, errors, retries, throttle, redacted logs."""

import logging
import time

import pytest

from integrations.connectors import connector_for
from integrations.connectors.nuorder import NuOrderConnector
from integrations.http import AuthFailed, BadResponse, RateLimit, RetryPolicy
from integrations.oauth1 import parse_authorization_header, percent_encode
from integrations.runner import supported_flows


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


def test_test_connection_makes_one_signed_call(api, nuorder):
    assert nuorder().test_connection() == f"NuORDER answered: {len(api.companies)} company code(s)"
    assert api.calls == [("GET", "/api/companies/codes/list")]
    assert len(api.nonces) == 1  # the sandbox verified one signature


def test_wrong_secret_is_auth_failed_with_the_channel_reason(api):
    credentials = {**api.credentials, "token_secret": "not-it"}
    connector = NuOrderConnector(base_url=api.base_url, credentials=credentials, label="nuorder-bad")
    with pytest.raises(AuthFailed, match="invalid signature") as caught:
        connector.test_connection()
    assert caught.value.status == 401
    assert "not-it" not in str(caught.value)


def test_missing_credentials_are_refused_before_any_call(api):
    credentials = {k: v for k, v in api.credentials.items() if k != "token"}
    with pytest.raises(AuthFailed, match="credential\\(s\\) missing: token"):
        NuOrderConnector(base_url=api.base_url, credentials=credentials)
    assert api.calls == []


def test_legacy_signature_is_used_when_configured(api, nuorder):
    connector = nuorder(use_legacy_signature=True)
    with pytest.raises(AuthFailed, match="legacy"):
        connector.test_connection()
    api.accept_legacy = True
    assert connector.test_connection().startswith("NuORDER answered")


def test_an_expired_token_answer_is_not_retried(api, nuorder):
    api.inject("expired_token")
    with pytest.raises(AuthFailed):
        nuorder().test_connection()
    assert api.faults == []
    assert api.calls == []  # the 401 was the only answer: no silent retry loop


def test_rate_limited_and_unavailable_reads_are_retried(api, nuorder):
    api.inject("status", status=429, retry_after=0.05)
    api.inject("status", status=503)
    assert nuorder().test_connection().startswith("NuORDER answered")
    assert api.faults == []


def test_a_read_that_times_out_is_retried(api, nuorder):
    api.inject("timeout", delay=1.2, path="/api/companies/codes/list")
    assert nuorder().test_connection().startswith("NuORDER answered")


def test_malformed_json_is_a_bad_response(api, nuorder):
    api.inject("malformed")
    with pytest.raises(BadResponse, match="not valid JSON"):
        nuorder().test_connection()


def test_a_list_endpoint_answering_an_object_is_a_bad_response(api, nuorder):
    connector = nuorder()
    with pytest.raises(BadResponse, match="expected a list of approved orders, got dict"):
        connector._list(connector.http.get("/api/order/" + next(iter(api.orders))), "approved orders")


def test_client_sends_at_most_five_requests_a_second_by_default(api):
    connector = NuOrderConnector(base_url=api.base_url, credentials=api.credentials, label="nuorder-throttle")
    started = time.monotonic()
    for _ in range(10):
        connector.test_connection()
    assert time.monotonic() - started >= 0.95  # a burst of 5, then one every 0.2 s
    assert connector.http.limiter.limit == RateLimit(per_second=5.0, burst=5)


def test_requests_per_second_setting_sets_the_client_side_limit(nuorder):
    """A brand whose NuORDER account allows more raises it; 0 turns the limiter off."""
    assert nuorder(requests_per_second=20).http.limiter.limit == RateLimit(per_second=20.0, burst=20)
    assert nuorder(requests_per_second=0).http.limiter is None


def test_debug_logs_carry_no_credential_token_or_signature(api, nuorder, caplog):
    connector = nuorder()
    sent = []
    connector.http.session.hooks["response"].append(lambda r, *a, **k: sent.append(r.request.headers["Authorization"]))
    caplog.set_level(logging.DEBUG, logger="integrations.http")
    order = next(o for o in api.orders.values() if o["status"] == "approved")
    connector.order_acknowledge(external_id=order["_id"], fulfillment_number="FUL-1")
    with pytest.raises(AuthFailed):
        NuOrderConnector(
            base_url=api.base_url, credentials={**api.credentials, "consumer_secret": "x"}, label="nuorder-test"
        ).test_connection()
    assert "POST" in caplog.text and len(sent) == 3
    for value in api.credentials.values():
        assert value not in caplog.text
    for header in sent:
        params = parse_authorization_header(header)
        assert params["oauth_signature"] not in caplog.text
        assert percent_encode(params["oauth_signature"]) not in caplog.text


def test_connector_for_builds_it_from_a_channel_row(sandbox_channel, api):
    channel = sandbox_channel("nuorder", settings={"order_statuses": "approved, review"})
    connector = connector_for(channel)
    assert isinstance(connector, NuOrderConnector)
    assert connector.settings["order_statuses"] == ["approved", "review"]
    assert connector.settings["season"] == api.channel_settings["season"]
    assert connector.test_connection().startswith("NuORDER answered")
    assert {"orders.download", "orders.acknowledge", "shipments.upload", "inventory.upload"} <= set(
        supported_flows("nuorder")
    )


def test_a_refusal_reads_as_the_channels_message_not_a_dict(api, nuorder):
    api.inject("status", status=401)

    with pytest.raises(AuthFailed) as caught:
        nuorder().test_connection()

    assert "Injected fault" in str(caught.value)
    assert "{" not in str(caught.value)
