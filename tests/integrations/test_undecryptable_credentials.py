"""Credentials that no key in FIELD_ENCRYPTION_KEY decrypts (the key was lost or changed without rotation): every
page still renders and says "cannot be decrypted: re-enter it", flows fail with that reason, and nothing is lost
that the right key could still recover."""

import logging

import pytest
from cryptography.fernet import Fernet
from django.contrib import admin
from django.db import connection
from django.urls import NoReverseMatch, reverse

from integrations.connectors import connector_class
from integrations.fields import UNDECRYPTABLE, is_undecryptable
from integrations.health import PING
from integrations.models import Channel, ChannelKind, SyncRun
from integrations.runner import flow_run
from tests.factories import ChannelFactory
from tests.integrations.test_admin_channels import change_url, form_data, messages_of
from tests.test_factories import model_factories

pytestmark = pytest.mark.django_db
SECRET = "s3cr3t-under-the-old-key"


@pytest.fixture
def channel() -> Channel:
    specs = connector_class(ChannelKind.CHANNELADVISOR).credentials_schema
    return ChannelFactory(slug="acme", credentials={spec.name: f"{SECRET}-{spec.name}" for spec in specs})


@pytest.fixture
def key_lost(settings):
    """From now on FIELD_ENCRYPTION_KEY holds only a key the stored rows were not written with."""
    original = list(settings.FIELD_ENCRYPTION_KEYS)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    return original


def stored_token(channel: Channel) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM integrations_channel WHERE id = %s", [channel.pk])
        return cursor.fetchone()[0]


def test_the_channel_loads_with_undecryptable_credentials_instead_of_raising(channel, key_lost):
    loaded = Channel.objects.get(pk=channel.pk)

    assert is_undecryptable(loaded.credentials)
    assert loaded.credentials.get("refresh_token") is None and dict(loaded.credentials) == {}


def test_saving_the_channel_for_another_reason_keeps_what_the_old_key_can_still_read(channel, key_lost, settings):
    before = stored_token(channel)
    loaded = Channel.objects.get(pk=channel.pk)
    loaded.name = "Acme renamed"
    loaded.save()

    assert stored_token(channel) == before
    settings.FIELD_ENCRYPTION_KEYS = key_lost
    assert Channel.objects.get(pk=channel.pk).credentials["refresh_token"] == f"{SECRET}-refresh_token"


def test_the_channel_list_says_cannot_be_decrypted_re_enter_it(admin_client, channel, key_lost):
    response = admin_client.get(reverse("admin:integrations_channel_changelist"))

    assert response.status_code == 200
    assert UNDECRYPTABLE in response.content.decode()


def test_the_change_page_says_cannot_be_decrypted_re_enter_it_at_each_credential(admin_client, channel, key_lost):
    response = admin_client.get(change_url(channel))

    html = response.content.decode()
    assert response.status_code == 200
    specs = connector_class(channel.kind).credentials_schema
    assert html.count(f"The stored value {UNDECRYPTABLE}.") == len(specs)
    assert "The stored credentials cannot be decrypted" in html


def test_saving_the_change_page_asks_for_the_required_credentials_again(admin_client, channel, key_lost):
    before = stored_token(channel)

    response = admin_client.post(change_url(channel), form_data(admin_client, channel, name="Acme renamed"))

    assert response.status_code == 200
    assert "This credential is required." in response.content.decode()
    assert stored_token(channel) == before


def test_re_entered_credentials_are_stored_under_the_current_key(admin_client, channel, key_lost):
    typed = {spec.name: f"new-{spec.name}" for spec in connector_class(channel.kind).credentials_schema}
    data = form_data(admin_client, channel, **{f"credential_{name}": value for name, value in typed.items()})

    response = admin_client.post(change_url(channel), data)

    assert response.status_code == 302
    assert Channel.objects.get(pk=channel.pk).credentials == typed


def test_a_flow_on_the_channel_fails_with_the_reason_not_a_traceback(channel, key_lost, caplog):
    with caplog.at_level(logging.DEBUG):
        run = flow_run(channel=Channel.objects.get(pk=channel.pk), flow=PING, trigger=SyncRun.Trigger.MANUAL)

    assert run.status == SyncRun.Status.FAILED
    assert run.error.startswith("acme: the stored credentials cannot be decrypted: re-enter them on the channel page")
    assert "Traceback" not in caplog.text


def test_test_connection_says_the_credentials_cannot_be_decrypted(admin_client, channel, key_lost):
    response = admin_client.post(reverse("admin:integrations_channel_test", args=[channel.pk]))

    [message] = messages_of(response)
    assert "the stored credentials cannot be decrypted: re-enter them" in message


def test_saving_the_change_page_with_nothing_typed_keeps_what_the_old_key_can_still_read(
    admin_client, key_lost, settings
):
    # Extensiv's credentials are all optional, so the page saves without any typed: the stored ciphertext stays.
    settings.FIELD_ENCRYPTION_KEYS = key_lost
    channel = ChannelFactory(kind=ChannelKind.EXTENSIV, credentials={"access_token": SECRET})
    before = stored_token(channel)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    response = admin_client.post(change_url(channel), form_data(admin_client, channel, name="Renamed"))

    assert response.status_code == 302
    assert stored_token(channel) == before
    settings.FIELD_ENCRYPTION_KEYS = key_lost
    assert Channel.objects.get(pk=channel.pk).credentials == {"access_token": SECRET}


@pytest.mark.parametrize(
    "model_factory", [f for f in model_factories() if f._meta.model in admin.site._registry], ids=lambda f: f.__name__
)
def test_no_admin_page_fails_when_the_channels_credentials_cannot_be_decrypted(
    admin_client, model_factory, key_lost, settings
):
    settings.FIELD_ENCRYPTION_KEYS = key_lost
    row = model_factory()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    opts = row._meta

    for name, args in [("changelist", []), ("change", [row.pk])]:
        try:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{name}", args=args)
        except NoReverseMatch:
            continue
        assert admin_client.get(url).status_code == 200, url
