"""The HTTP transport (integrations/http.py) against the ChannelAdvisor sandbox over real HTTP: retries and
backoff (429 Retry-After, 5xx for idempotent calls only), dropped connections, lost answers, timeouts,
malformed JSON, one token refresh on 401, the error classes, the rate limiter, and redacted debug logs."""

import base64
import logging
import socket
import time

import pytest

from integrations.connectors.channeladvisor import ChannelAdvisorConnector
from integrations.connectors.records import QuantityUpdate
from integrations.http import (
    AuthFailed,
    BadResponse,
    ChannelError,
    ClientError,
    Conflict,
    HttpClient,
    NotFound,
    RateLimit,
    RateLimited,
    RateLimiter,
    RetryPolicy,
    ServerError,
    TransportError,
    body_message,
)

PROFILES = "^/v1/Profiles$"
QUICK = RetryPolicy(attempts=5, backoff=0.001, jitter=0)


@pytest.fixture
def ca(sandbox):
    return sandbox.api("channeladvisor")


@pytest.fixture
def connect(sandbox, ca, request):
    """A ChannelAdvisorConnector whose `http` is the transport under test."""
    made = []

    def make(retry: RetryPolicy = QUICK, timeout=(1, 1), credentials=None):
        connector = ChannelAdvisorConnector(
            base_url=sandbox.url("channeladvisor"),
            credentials=dict(ca.credentials) if credentials is None else credentials,
            label=f"t-{request.node.name}"[:50],
            retry=retry,
            timeout=timeout,
        )
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


def relative_update(ca, quantity: int) -> tuple[str, dict]:
    path = f"/v1/Products({ca.product_id('GM501')})/UpdateQuantity"
    body = {
        "Value": {
            "UpdateType": "Relative",
            "Updates": [{"DistributionCenterID": ca.dc_id("MAIN"), "Quantity": quantity}],
        }
    }
    return path, body


# Retries.


def test_429_is_retried_after_waiting_at_least_retry_after(connect, ca):
    http = connect().http
    http.get("/v1/Profiles")  # the token is fetched outside the timed part
    ca.inject("status", times=2, status=429, retry_after=0.2, path=PROFILES)

    started = time.monotonic()
    response = http.get("/v1/Profiles")
    waited = time.monotonic() - started

    assert response.status_code == 200
    assert ca.faults == []  # two refusals, then the answer
    assert waited >= 0.35  # two waits of Retry-After (0.2 s) each; the backoff alone would be 3 ms


def test_429_is_retried_even_for_a_post_not_marked_safe(connect, ca):
    path, body = relative_update(ca, 5)
    before = ca.quantity("GM501", "MAIN")
    ca.inject("status", times=1, status=429, retry_after=0, path="/UpdateQuantity$")

    connect().http.post(path, json_body=body)

    assert ca.quantity("GM501", "MAIN") == before + 5  # refused unprocessed, then applied once


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_for_get(connect, ca, status):
    ca.inject("status", times=2, status=status, path=PROFILES)

    response = connect().http.get("/v1/Profiles")

    assert response.status_code == 200
    assert ca.faults == []


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_not_retried_for_a_post_not_marked_safe(connect, ca, status):
    http = connect().http
    path, body = relative_update(ca, 5)
    fault = ca.inject("status", times=2, status=status, path="/UpdateQuantity$")

    with pytest.raises(ServerError):
        http.post(path, json_body=body)

    assert fault.times == 1  # one of the two faults answered: exactly one call reached the sandbox
    assert ca.quantity_updates == []


def test_post_marked_safe_to_retry_is_retried(connect, ca):
    order_id = min(ca.orders)
    ca.inject("status", times=2, status=500, path="/Export$")

    connect().http.post(f"/v1/Orders({order_id})/Export", json_body={}, safe_to_retry=True)

    assert ca.exported == {order_id}


def test_retries_stop_after_the_policy_s_attempts(connect, ca):
    fault = ca.inject("status", times=10, status=503, path=PROFILES)
    http = connect(retry=RetryPolicy(attempts=3, backoff=0.001)).http

    with pytest.raises(ServerError) as caught:
        http.get("/v1/Profiles")

    assert caught.value.status == 503 and caught.value.retryable
    assert fault.times == 7


def test_dropped_connection_on_get_is_retried(connect, ca):
    ca.inject("drop", times=2, path=PROFILES)

    assert connect().http.get("/v1/Profiles").status_code == 200
    assert ca.faults == []


def test_lost_answer_to_a_post_is_outcome_unknown_with_exactly_one_side_effect(connect, ca):
    http = connect().http
    path, body = relative_update(ca, 5)
    before = ca.quantity("GM501", "MAIN")
    ca.inject("drop_after", path="/UpdateQuantity$")

    with pytest.raises(TransportError) as caught:
        http.post(path, json_body=body)

    assert caught.value.outcome_unknown
    assert ca.quantity("GM501", "MAIN") == before + 5
    assert len(ca.quantity_updates) == 1


def test_read_timeout_is_a_transport_error(connect, ca):
    ca.inject("timeout", delay=0.6, path=PROFILES)
    http = connect(retry=RetryPolicy(attempts=1), timeout=(1, 0.2)).http
    http.get("/v1/DistributionCenters")  # token first, so the timeout hits the call under test

    with pytest.raises(TransportError, match="timed out") as caught:
        http.get("/v1/Profiles")

    assert caught.value.outcome_unknown and caught.value.retryable


def test_read_timeout_on_get_is_retried(connect, ca):
    ca.inject("timeout", delay=0.6, path=PROFILES)
    http = connect(timeout=(1, 0.2)).http

    assert http.get("/v1/Profiles").status_code == 200


def test_refused_connection_is_a_transport_error_that_never_reached_the_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    http = HttpClient(
        channel="t-refused", base_url=f"http://127.0.0.1:{port}/", retry=RetryPolicy(attempts=2, backoff=0.001)
    )

    with pytest.raises(TransportError, match="connection failed") as caught:
        http.post("/v1/anything", json_body={})

    assert not caught.value.outcome_unknown


def test_malformed_json_is_bad_response(connect, ca):
    http = connect().http
    ca.inject("malformed", path=PROFILES)

    with pytest.raises(BadResponse, match="not valid JSON") as caught:
        http.json(http.get("/v1/Profiles"))

    assert caught.value.path == "/v1/Profiles" and caught.value.status == 200


# Auth.


def test_401_refreshes_the_token_once_then_succeeds(connect, ca):
    http = connect().http
    http.get("/v1/Profiles")
    ca.inject("expired_token", path=PROFILES)

    assert http.get("/v1/Profiles").status_code == 200
    assert ca.token_grants == 2


def test_a_second_401_is_auth_failed(connect, ca):
    http = connect().http
    ca.inject("expired_token", times=2, path=PROFILES)

    with pytest.raises(AuthFailed) as caught:
        http.get("/v1/Profiles")

    assert caught.value.status == 401 and not caught.value.retryable
    assert ca.token_grants == 2


def test_401_without_a_refresh_hook_is_auth_failed_at_once(sandbox, ca):
    http = HttpClient(channel="t-no-refresh", base_url=sandbox.url("channeladvisor"), retry=QUICK)

    with pytest.raises(AuthFailed):
        http.get("/v1/Profiles")

    assert ca.calls_to("GET", PROFILES) == 1


# Errors.


ERROR_CLASSES = [
    (400, ClientError),
    (403, AuthFailed),
    (404, NotFound),
    (409, Conflict),
    (422, ClientError),
    (429, RateLimited),
    (500, ServerError),
]


@pytest.mark.parametrize(("status", "kind"), ERROR_CLASSES)
def test_status_maps_to_its_error_class(connect, ca, status, kind):
    http = connect(retry=RetryPolicy(attempts=1)).http
    ca.inject("status", status=status, path=PROFILES)

    with pytest.raises(kind) as caught:
        http.get("/v1/Profiles")

    assert isinstance(caught.value, ChannelError)
    assert caught.value.status == status


def test_errors_read_as_one_line_with_channel_reason_call_and_status(connect):
    connector = connect()

    with pytest.raises(NotFound) as caught:
        connector.order_get("999999")

    assert str(caught.value) == f"{connector.label}: Order 999999 was not found. (GET /v1/Orders(999999) → 404)"
    assert caught.value.reason == "Order 999999 was not found."


def test_retryable_errors_are_the_transient_ones():
    assert [kind("x").retryable for kind in (RateLimited, ServerError, TransportError)] == [True, True, True]
    assert [kind("x").retryable for kind in (AuthFailed, NotFound, Conflict, ClientError, BadResponse)] == [False] * 5


# Rate limiting.


def test_rate_limiter_spaces_calls_beyond_the_burst(sandbox, connect):
    auth = connect().token_auth
    http = HttpClient(
        channel="t-spacing", base_url=sandbox.url("channeladvisor"), auth=auth, rate_limit=RateLimit(per_second=20)
    )
    http.get("/v1/Profiles")

    started = time.monotonic()
    for _ in range(5):
        http.get("/v1/Profiles")

    assert time.monotonic() - started >= 0.2  # five calls at 20 per second: at least ~0.25 s


def test_rate_limiter_lets_a_burst_through_at_once(sandbox, connect):
    auth = connect().token_auth
    auth.token()
    http = HttpClient(
        channel="t-burst",
        base_url=sandbox.url("channeladvisor"),
        auth=auth,
        rate_limit=RateLimit(per_second=1, burst=5),
    )

    started = time.monotonic()
    for _ in range(5):
        http.get("/v1/Profiles")

    assert time.monotonic() - started < 0.9  # a sixth call would have waited a whole second


def test_clients_of_one_channel_share_a_bucket():
    limit = RateLimit(per_second=5)

    assert RateLimiter.for_channel("t-shared", limit) is RateLimiter.for_channel("t-shared", limit)
    assert RateLimiter.for_channel("t-shared", limit) is not RateLimiter.for_channel("t-other", limit)


# Logs.


def test_debug_logs_carry_call_details_but_no_secret(connect, ca, caplog):
    caplog.set_level(logging.DEBUG, logger="integrations.http")
    connector = connect()
    connector.test_connection()
    ca.expire_tokens()
    connector.quantities_push([QuantityUpdate("GM501", str(ca.dc_id("MAIN")), 3)])
    with pytest.raises(AuthFailed):
        connect(credentials={**ca.credentials, "refresh_token": "r-e-v-o-k-e-d"}).test_connection()

    text = "\n".join(record.getMessage() for record in caplog.records)
    credentials = ca.credentials
    basic = base64.b64encode(f"{credentials['application_id']}:{credentials['shared_secret']}".encode()).decode()
    secrets = [credentials["refresh_token"], credentials["shared_secret"], basic, "r-e-v-o-k-e-d", *ca.tokens]
    assert len(ca.tokens) == 2
    assert [secret for secret in secrets if secret in text] == []
    assert "Bearer" not in text.replace("[redacted]", "")
    assert "GET http://127.0.0.1" in text and "/v1/Profiles" in text and "-> 200" in text
    assert "-> 401" in text and "POST" in text and "/oauth2/token" in text and "-> 400" in text
    assert "(attempt 1)" in text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"error": {"code": "401", "message": "Token expired"}}, "Token expired"),
        ({"error": "invalid_grant", "error_description": "Refresh token revoked"}, "Refresh token revoked"),
        ({"Message": "The request is invalid.", "ModelState": {}}, "The request is invalid."),
        ({"errors": [{"message": "SKU unknown"}, {"message": "UPC unknown"}]}, "SKU unknown; UPC unknown"),
        ({"code": 500, "details": {}}, ""),  # nothing a person can read: the caller says the HTTP reason
    ],
)
def test_body_message_finds_the_channels_words_in_any_nesting(body, message):
    assert body_message(body) == message


# The environment, read once.


def test_the_environment_proxy_is_used_for_its_hosts_and_no_proxy_bypasses_it(sandbox, monkeypatch):
    """requests' own reading of the environment is off (it cost a tenth of a worker's CPU); the client reads the
    proxy variables itself, once per host, and honours them and NO_PROXY the way requests would."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: a call through this proxy cannot connect
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    through_proxy = HttpClient(channel="t-proxy", base_url=sandbox.url("oms"), retry=RetryPolicy(attempts=1))
    with pytest.raises(TransportError, match="connection failed"):
        through_proxy.get("/api/items")
    through_proxy.close()

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    bypassing = HttpClient(channel="t-proxy", base_url=sandbox.url("oms"), retry=RetryPolicy(attempts=1))
    assert bypassing.proxies(sandbox.url("oms")) == {}
    assert bypassing.get("/api/items", ok_statuses=(401,)).status_code == 401  # it reached the sandbox
    bypassing.close()
