"""Extensiv Order Manager auth and transport against the sandbox over HTTP: Bearer token, the one-time
install code exchange, 429 with x-skubana-quota-retryAfter in milliseconds, the client throttle, and no
secret in the debug log."""

import base64
import logging
import time

import pytest

from integrations.connectors.extensiv import ExtensivConnector
from integrations.http import AuthFailed, ClientError, RateLimited, RetryPolicy

FAST = RetryPolicy(backoff=0.01)


@pytest.fixture
def om(sandbox):
    return sandbox.api("extensiv")


@pytest.fixture
def connect(sandbox, om, request):
    """ExtensivConnector(settings overrides) against the sandbox, as the channel fixtures configure it."""
    made = []

    def make(retry: RetryPolicy = FAST, credentials=None, **settings):
        connector = ExtensivConnector(
            base_url=sandbox.url("extensiv"),
            credentials=dict(om.credentials) if credentials is None else credentials,
            settings={**om.channel_settings, **settings},
            label=f"om-{request.node.name}"[:50],
            retry=retry,
            timeout=(1, 1),
        )
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


def app_credentials(om, **extra) -> dict:
    return {"app_key": om.app_key, "app_secret": om.app_secret, **extra}


def test_test_connection_names_the_warehouses(connect):
    assert connect().test_connection() == "connected; 3 warehouse(s): Main warehouse, East coast, Amazon FBA"


def test_a_refused_token_is_auth_failed_with_om_reason(connect):
    with pytest.raises(AuthFailed, match="Invalid access token"):
        connect(credentials={"access_token": "not-a-token"}).test_connection()


def test_no_token_and_no_code_fails_before_sending(connect, om):
    with pytest.raises(AuthFailed, match="no access token"):
        connect(credentials={}).test_connection()

    assert om.calls == []


def test_install_code_is_exchanged_on_first_use_and_then_dropped(connect, om):
    connector = connect(credentials=app_credentials(om, code=om.issue_code()))

    assert connector.test_connection().startswith("connected")
    assert connector.credentials["access_token"] in om.tokens
    assert "code" not in connector.credentials
    assert om.calls_to("POST", "/oauth/token") == 1


def test_an_install_code_works_once(connect, om):
    code = om.issue_code()
    connect(credentials=app_credentials(om)).token_exchange(code=code)

    with pytest.raises(ClientError, match="invalid_grant"):
        connect(credentials=app_credentials(om)).token_exchange(code=code)


def test_a_wrong_app_secret_is_auth_failed(connect, om):
    connector = connect(credentials={"app_key": om.app_key, "app_secret": "wrong", "code": om.issue_code()})

    with pytest.raises(AuthFailed):
        connector.token_exchange()


def test_429_waits_the_quota_header_in_milliseconds(connect, om):
    om.inject("status", status=429, retry_after=0.3, path="/v1/warehouses")  # header: 300 (ms)

    started = time.monotonic()
    assert connect().test_connection().startswith("connected")

    assert 0.28 <= time.monotonic() - started < 2


def test_429_without_the_header_waits_the_default_capped_by_max_wait(connect, om):
    om.inject("status", status=429, path="/v1/warehouses")  # no x-skubana-quota-retryAfter: 15 s assumed
    connector = connect(retry=RetryPolicy(backoff=0.01, max_wait=0.3))

    started = time.monotonic()
    connector.test_connection()

    assert 0.28 <= time.monotonic() - started < 2


def test_quota_bucket_refusals_are_waited_out(connect, om):
    om.set_quota(capacity=2, per_second=5, retry_after_ms=250)
    connector = connect()

    for _ in range(4):
        connector.order_get("90001")

    assert om.calls_to("GET", "/orders") > 4  # some calls were refused with 429 and sent again


def test_a_quota_that_never_refills_ends_in_rate_limited(connect, om):
    om.set_quota(capacity=0, per_second=0, retry_after_ms=1)

    with pytest.raises(RateLimited):
        connect(retry=RetryPolicy(attempts=3, backoff=0.01)).order_get("90001")

    assert om.calls_to("GET", "/orders") == 3


def test_client_throttle_spaces_requests(connect):
    connector = connect(requests_per_second=4)  # a burst of 4, then one every 0.25 s

    started = time.monotonic()
    for _ in range(6):
        connector.order_get("90001")

    assert time.monotonic() - started >= 0.45


def test_server_error_on_a_read_is_retried(connect, om):
    om.inject("status", status=500, path="/v1/warehouses")

    assert connect().test_connection().startswith("connected")


def test_no_token_code_or_app_secret_in_the_debug_log(connect, om, caplog):
    caplog.set_level(logging.DEBUG, logger="integrations.http")
    code = om.issue_code()
    connector = connect(credentials=app_credentials(om, code=code))
    connector.test_connection()
    list(connector.orders_download(since=None))
    om.inject("status", status=401, path="/v1.1/orders")
    with pytest.raises(AuthFailed):
        connector.order_get("90001")

    basic = base64.b64encode(f"{om.app_key}:{om.app_secret}".encode()).decode()
    secrets = [connector.credentials["access_token"], code, om.app_secret, basic, om.credentials["access_token"]]
    assert "/oauth/token" in caplog.text and "/v1.1/orders" in caplog.text
    assert not [s for s in secrets if s in caplog.text]
