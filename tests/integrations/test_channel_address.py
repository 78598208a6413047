"""A channel moved to another address (base URL, kind, a *base_url setting) never takes its stored
credentials there: the change form asks for them again in the same save, or drops optional ones, and
"Test connection" and "Run now" only ever send what was entered for the address they call."""

import pytest
from django.urls import reverse

from integrations.sandbox.oms import OmsSandbox
from integrations.sandbox.server import SandboxServer
from integrations.tasks import run_flow
from tests.integrations.test_admin_channels import change_url, form_data, messages_of

pytestmark = pytest.mark.django_db
OMS_KEY = OmsSandbox.credentials["api_key"]


class RecordingOms(OmsSandbox):
    """Another host speaking the OMS API, which remembers every Authorization header it was sent."""

    def reset(self) -> None:
        super().reset()
        self.received: list[str] = []

    def authenticate(self, request) -> None:
        self.received.append(request.header("authorization"))
        super().authenticate(request)


@pytest.fixture
def elsewhere(sandbox):
    server = SandboxServer(RecordingOms(sandbox.world)).start()
    yield server
    server.stop()


@pytest.fixture
def oms(sandbox_channel):
    return sandbox_channel("oms", slug="fulfillment")


def test_a_new_base_url_without_the_credentials_is_refused_and_names_them(admin_client, oms, elsewhere):
    response = admin_client.post(change_url(oms), form_data(admin_client, oms, base_url=elsewhere.url))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "enter api_key again in this save" in errors["base_url"][0]
    assert errors["credential_api_key"] == ["Enter it again: the base URL changed."]
    oms.refresh_from_db()
    assert oms.base_url != elsewhere.url and oms.credentials["api_key"] == OMS_KEY


def test_the_page_says_that_changing_the_base_url_needs_the_credentials_again(admin_client, oms):
    page = admin_client.get(change_url(oms)).content.decode()
    assert "Stored credentials are never sent to a new address" in page


def test_after_a_refused_move_test_connection_and_run_now_call_only_the_old_address(
    admin_client, oms, elsewhere, sandbox, queued_tasks
):
    admin_client.post(change_url(oms), form_data(admin_client, oms, base_url=elsewhere.url))
    test = admin_client.post(reverse("admin:integrations_channel_test", args=[oms.pk]), follow=True)
    assert "connected" in " ".join(messages_of(test))
    admin_client.post(reverse("admin:integrations_channel_run", args=[oms.pk, "inventory.download"]))
    (task,) = queued_tasks()
    result = run_flow(*task["args"])  # the run reached the old address (partial: the hub has no catalog)
    assert result["status"] != "failed" and result["seen"] > 0
    assert elsewhere.api.received == [] and sandbox.api("oms").calls


def test_a_move_with_the_credentials_entered_again_sends_only_the_new_ones(admin_client, oms, elsewhere):
    data = form_data(admin_client, oms, base_url=elsewhere.url, credential_api_key="key-for-the-new-host-2b")
    assert admin_client.post(change_url(oms), data).status_code == 302
    oms.refresh_from_db()
    assert oms.base_url == elsewhere.url and oms.credentials["api_key"] == "key-for-the-new-host-2b"
    admin_client.post(reverse("admin:integrations_channel_test", args=[oms.pk]))
    assert elsewhere.api.received and set(elsewhere.api.received) == {"Bearer key-for-the-new-host-2b"}


def test_a_move_drops_optional_credentials_not_entered_again_and_says_so(admin_client, sandbox_channel, elsewhere):
    channel = sandbox_channel("extensiv", credentials={"access_token": "om-token-0f9e8d", "hook_secret": "hook-1a2b3c"})
    response = admin_client.post(change_url(channel), form_data(admin_client, channel, base_url=elsewhere.url))
    assert response.status_code == 302
    channel.refresh_from_db()
    # The notification secret is never sent anywhere, so it stays; the outbound token is gone.
    assert channel.credentials == {"hook_secret": "hook-1a2b3c"}
    page = admin_client.get(change_url(channel))
    assert any("stored access_token were dropped" in m for m in messages_of(page))
    test = admin_client.post(reverse("admin:integrations_channel_test", args=[channel.pk]), follow=True)
    assert "no access token" in " ".join(messages_of(test)) and elsewhere.api.received == []


def test_a_new_auth_base_url_setting_counts_as_a_move(admin_client, sandbox_channel, elsewhere):
    channel = sandbox_channel("extensiv", credentials={"app_key": "app-key-77aa", "app_secret": "app-secret-88bb"})
    data = form_data(admin_client, channel, setting_auth_base_url=elsewhere.url)
    assert admin_client.post(change_url(channel), data).status_code == 302
    channel.refresh_from_db()
    assert channel.credentials == {}


def test_saving_without_a_move_keeps_the_stored_credentials(admin_client, oms):
    assert admin_client.post(change_url(oms), form_data(admin_client, oms, name="Renamed")).status_code == 302
    oms.refresh_from_db()
    assert oms.credentials == {"api_key": OMS_KEY}
