"""The alert webhook URL is a secret (whoever has a Slack-style URL can post to the room): stored encrypted among
the channel's credentials, write-only on the channel page, never named in history, held back from whoever may not
change credentials, redacted by value (its path too), and moved there from the old plain column by a migration."""

import logging

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from integrations.connectors import connector_class
from integrations.models import ALERT_WEBHOOK, Channel, ChannelKind
from integrations.redaction import REDACTED, redact_text
from tests.factories import ChannelFactory
from tests.integrations.test_admin_channels import form_data
from tests.permissions.conftest import role_client

HOOK = "https://hooks.example.com/services/T0SECRET/B0SECRET/xoxo-webhook-7f3a"


def full_channel(**values) -> Channel:
    """A ChannelAdvisor channel with every credential its page requires."""
    schema = connector_class(ChannelKind.CHANNELADVISOR).credentials_schema
    credentials = {spec.name: f"stored-{spec.name}" for spec in schema}
    return ChannelFactory(kind=ChannelKind.CHANNELADVISOR, credentials=credentials, **values)


def change_url(channel: Channel) -> str:
    return reverse("admin:integrations_channel_change", args=[channel.pk])


def raw_credentials(channel: Channel) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM integrations_channel WHERE id = %s", [channel.pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_url_is_stored_encrypted_among_the_credentials():
    channel = ChannelFactory(credentials={"refresh_token": "stored-token"}, alert_webhook_url=HOOK)
    channel = Channel.objects.get(pk=channel.pk)
    assert channel.alert_webhook_url == HOOK and channel.credentials["refresh_token"] == "stored-token"
    assert "hooks.example.com" not in raw_credentials(channel) and "T0SECRET" not in raw_credentials(channel)


@pytest.mark.django_db
def test_the_channel_page_never_shows_it_keeps_it_when_blank_and_removes_it_when_asked():
    channel = full_channel(alert_webhook_url=HOOK)
    stored = {name: value for name, value in channel.credentials.items() if name != ALERT_WEBHOOK}
    client = role_client("superuser")

    page = client.get(change_url(channel)).content.decode()
    assert "T0SECRET" not in page and "a URL is stored; leave blank to keep it" in page
    assert 'type="password" name="alert_webhook_url"' in page

    assert client.post(change_url(channel), form_data(client, channel, name="Renamed")).status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.alert_webhook_url) == ("Renamed", HOOK)

    client.post(change_url(channel), form_data(client, channel, alert_webhook_clear="on"))
    channel.refresh_from_db()
    assert channel.alert_webhook_url == "" and channel.credentials == stored


@pytest.mark.django_db
def test_history_does_not_name_or_hold_it():
    channel = full_channel()
    client = role_client("superuser")
    client.post(change_url(channel), form_data(client, channel, alert_webhook_url=HOOK))
    channel.refresh_from_db()
    assert channel.alert_webhook_url == HOOK
    entry = LogEntry.objects.get(object_id=str(channel.pk))
    assert "webhook" not in entry.change_message.lower() and "T0SECRET" not in entry.change_message
    history = client.get(reverse("admin:integrations_channel_history", args=[channel.pk])).content.decode()
    assert "webhook" not in history.lower()


@pytest.mark.django_db
def test_whoever_may_not_change_credentials_sees_only_whether_one_is_set_and_cannot_set_or_remove_it():
    channel = full_channel(alert_webhook_url=HOOK)
    client = role_client("operations")

    page = client.get(change_url(channel)).content.decode()
    assert "a URL is stored (a secret, like the credentials" in page
    assert "T0SECRET" not in page and 'name="alert_webhook_url"' not in page
    forged = {"alert_webhook_url": "https://attacker.example/hook", "alert_webhook_clear": "on"}
    assert client.post(change_url(channel), {**form_data(client, channel), **forged}).status_code == 302

    channel.refresh_from_db()
    assert channel.alert_webhook_url == HOOK


@pytest.mark.django_db
def test_the_url_and_its_path_are_redacted_by_value_once_read():
    channel = ChannelFactory(alert_webhook_url=HOOK)
    Channel.objects.get(pk=channel.pk)  # decrypting remembers it, as every process that reads it does
    text = redact_text(f"POST {HOOK} failed; then POST /services/T0SECRET/B0SECRET/xoxo-webhook-7f3a again")
    assert "T0SECRET" not in text and text.count(REDACTED) == 2


@pytest.mark.django_db
def test_a_failing_webhook_logs_neither_its_url_nor_its_path(sandbox_channel, caplog):
    from integrations.alerts import _post_webhook

    url = "http://127.0.0.1:9/services/T0SECRET/B0SECRET/unreachable"
    channel = sandbox_channel("oms", contacts="ops@example.com", alert_webhook_url=url)
    caplog.set_level(logging.DEBUG)
    _post_webhook(Channel.objects.get(pk=channel.pk), "hello")
    assert "the alert webhook of" in caplog.text and "T0SECRET" not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_a_stored_url_into_the_encrypted_credentials():
    executor = MigrationExecutor(connection)
    before, after = (
        [("integrations", "0004_channel_credentials_permission")],
        [("integrations", "0005_alert_webhook_url_encrypted")],
    )
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps.get_model("integrations", "Channel")
        with_url = old.objects.create(name="A", slug="a", kind="oms", credentials={"api_key": "k" * 12},
                                      alert_webhook_url=HOOK)  # fmt: skip
        without = old.objects.create(name="B", slug="b", kind="oms", credentials={"api_key": "k" * 12})
        executor = MigrationExecutor(connection)
        executor.migrate(after)
    finally:
        MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
    moved, untouched = Channel.objects.get(pk=with_url.pk), Channel.objects.get(pk=without.pk)
    assert moved.credentials == {"api_key": "k" * 12, ALERT_WEBHOOK: HOOK}
    assert untouched.credentials == {"api_key": "k" * 12} and untouched.alert_webhook_url == ""
    assert "hooks.example.com" not in raw_credentials(moved)
