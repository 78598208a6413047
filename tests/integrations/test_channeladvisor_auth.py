"""ChannelAdvisor auth against the sandbox over HTTP: the refresh-token grant with Basic app credentials,
the cached access token, renewal before expiry, one refresh on 401, and readable refusals."""

import base64
import time

import pytest

from integrations.connectors import connector_for
from integrations.connectors.base import SettingsError
from integrations.connectors.channeladvisor import ChannelAdvisorConnector
from integrations.http import AuthFailed, BadResponse, RateLimit, RetryPolicy

FAST = RetryPolicy(backoff=0.01)


@pytest.fixture
def ca(sandbox):
    return sandbox.api("channeladvisor")


@pytest.fixture
def connect(sandbox, ca, request):
    """ChannelAdvisorConnector against the sandbox; credentials and settings overridable."""
    made = []

    def make(credentials=None, **settings):
        connector = ChannelAdvisorConnector(
            base_url=sandbox.url("channeladvisor"),
            credentials=dict(ca.credentials) if credentials is None else credentials,
            settings=settings,
            label=f"ca-{request.node.name}"[:50],
            retry=FAST,
            timeout=(1, 1),
        )
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


def test_token_grant_sends_basic_app_credentials_and_the_refresh_token(connect, ca):
    connector = connect()

    connector.test_connection()

    assert ca.token_grants == 1
    assert ca.calls_to("POST", r"^/oauth2/token$") == 1
    assert len(ca.tokens) == 1  # the sandbox issues only on a valid Basic header and refresh token


def test_access_token_is_cached_across_calls(connect, ca):
    connector = connect()

    connector.test_connection()
    connector.warehouses_download()
    connector.test_connection()

    assert ca.token_grants == 1
    assert ca.calls_to("GET", r"^/v1/") == 3


def test_token_is_renewed_before_it_expires(connect, ca):
    ca.token_lifetime = 0.2  # kept for half its life when the lifetime is this short
    connector = connect()

    connector.test_connection()
    time.sleep(0.15)
    connector.test_connection()

    assert ca.token_grants == 2
    assert ca.calls_to("GET", r"^/v1/Profiles$") == 2  # no call was refused on the way


def test_expired_token_is_refreshed_once_and_the_call_repeated(connect, ca):
    connector = connect()
    connector.test_connection()
    ca.expire_tokens()

    assert connector.test_connection().startswith("ChannelAdvisor: 2 profile(s)")

    assert ca.token_grants == 2
    assert ca.calls_to("GET", r"^/v1/Profiles$") == 3  # ok, 401, ok


def test_a_second_401_after_refreshing_is_auth_failed(connect, ca):
    connector = connect()
    connector.test_connection()
    ca.inject("expired_token", times=2, path=r"^/v1/Profiles$")

    with pytest.raises(AuthFailed) as caught:
        connector.test_connection()

    assert caught.value.status == 401
    assert ca.token_grants == 2  # refreshed exactly once


@pytest.mark.parametrize(
    ("credential", "hint"),
    [
        ("application_id", "check the application ID and shared secret"),
        ("shared_secret", "check the application ID and shared secret"),
        ("refresh_token", "the refresh token is not valid or was revoked"),
    ],
)
def test_bad_credentials_are_auth_failed_with_a_readable_reason(connect, ca, credential, hint):
    connector = connect(credentials={**ca.credentials, credential: "wrong"})

    with pytest.raises(AuthFailed) as caught:
        connector.test_connection()

    assert caught.value.status == 400
    assert hint in str(caught.value)
    assert "/oauth2/token" in str(caught.value)
    assert "wrong" not in str(caught.value)
    assert ca.calls_to("GET", r"^/v1/") == 0


def test_token_endpoint_400_is_not_retried(connect, ca):
    connector = connect(credentials={**ca.credentials, "refresh_token": "revoked"})

    with pytest.raises(AuthFailed):
        connector.test_connection()

    assert ca.calls_to("POST", r"^/oauth2/token$") == 1


def test_token_grant_is_retried_after_a_server_error(connect, ca):
    ca.inject("status", times=2, status=503, path=r"^/oauth2/token$")

    connect().test_connection()

    assert ca.faults == []  # both 503s were answered, then the grant went through
    assert ca.token_grants == 1


def test_missing_credential_is_auth_failed_before_any_call(connect, ca):
    credentials = dict(ca.credentials)
    del credentials["shared_secret"]

    with pytest.raises(AuthFailed, match="shared_secret"):
        connect(credentials=credentials).test_connection()

    assert ca.calls == []


def test_malformed_token_response_is_bad_response(connect, ca):
    ca.inject("malformed", path=r"^/oauth2/token$")

    with pytest.raises(BadResponse, match="not valid JSON"):
        connect().test_connection()


def test_access_token_as_query_parameter_is_accepted_by_the_sandbox(ca, sandbox):
    import requests

    credentials = ca.credentials
    basic = base64.b64encode(f"{credentials['application_id']}:{credentials['shared_secret']}".encode()).decode()
    grant = {"grant_type": "refresh_token", "refresh_token": credentials["refresh_token"]}
    token = requests.post(
        sandbox.url("channeladvisor") + "oauth2/token", data=grant, headers={"Authorization": f"Basic {basic}"}
    ).json()["access_token"]

    answer = requests.get(sandbox.url("channeladvisor") + "v1/Profiles", params={"access_token": token})

    assert answer.status_code == 200
    assert answer.json()["value"][0]["ID"] == 12345678


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"shipping_status": "Unshiped"}, "shipping_status"),
        ({"payment_status": ["cleared"]}, "payment_status"),
        ({"profile_ids": "12345678,abc"}, "profile_ids"),
        ({"distribution_center_id": "MAIN"}, "distribution_center_id"),
        ({"page_size": 500}, "page_size"),
        ({"update_type": "absolute"}, "update_type"),
    ],
)
def test_settings_ca_would_silently_match_nothing_with_are_refused(connect, given, message):
    with pytest.raises(SettingsError, match=message):
        connect(**given)


@pytest.mark.django_db
def test_connector_for_a_sandbox_channel_authenticates(sandbox_channel, ca):
    channel = sandbox_channel("channeladvisor", settings={"payment_status": ["Cleared"]})

    connector = connector_for(channel)

    assert isinstance(connector, ChannelAdvisorConnector)
    assert connector.test_connection() == "ChannelAdvisor: 2 profile(s): Switchyard Sandbox, Switchyard Outlet"
    assert connector.settings["payment_status"] == ["Cleared"]
    assert ca.token_grants == 1


def test_requests_per_second_setting_sets_the_client_side_limit(connect):
    # CA allows 2,000 requests a minute per profile: the default 30/s keeps a burst of 100 under it.
    assert connect().http.limiter.limit == RateLimit(per_second=30.0, burst=100)
    assert connect(requests_per_second=50).http.limiter.limit == RateLimit(per_second=50.0, burst=50)
    assert connect(requests_per_second=0).http.limiter is None


def test_a_nested_error_body_on_the_token_endpoint_reads_as_its_message_not_a_dict(connect, ca):
    ca.inject("status", status=401, path=r"^/oauth2/token$")  # answered {"error": {"code": "401", "message": …}}

    with pytest.raises(AuthFailed) as caught:
        connect().test_connection()

    assert "Injected fault" in str(caught.value)
    assert "{" not in str(caught.value) and "'code'" not in str(caught.value)
