import logging
from typing import Any, ClassVar

import pytest
from django import forms
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.urls import reverse
from django_q.models import Schedule

from integrations.connectors import connector_class
from integrations.connectors.base import Connector, CredentialSpec, SettingSpec
from integrations.connectors.capabilities import OrderSource, QuantitySink
from integrations.forms import connector_form_class, credential_field, flow_fields, setting_field
from integrations.models import Channel, ChannelKind, SyncRun
from integrations.tasks import RUN_FLOW
from tests.factories import ChannelFactory, FulfillmentChannelFactory, SyncIssueFactory, SyncRunFactory

pytestmark = pytest.mark.django_db
SECRET = "s3cr3t-value-that-must-never-show"


def change_url(channel: Channel) -> str:
    return reverse("admin:integrations_channel_change", args=[channel.pk])


def form_data(client, channel: Channel, **changes: Any) -> dict[str, Any]:
    """What the browser posts back when saving the change page untouched, plus `changes`."""
    form = client.get(change_url(channel)).context["adminform"].form
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field, forms.BooleanField):
            value = "on" if value else None
        if isinstance(field, forms.SplitDateTimeField):  # the go-live date: a date input and a time input
            day, time = field.widget.decompress(value)
            data.update({f"{name}_0": day and day.isoformat(), f"{name}_1": time and time.isoformat()})
            continue
        if value not in (None, ""):
            data[name] = value
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def channel():
    kind = ChannelKind.CHANNELADVISOR
    connector = connector_class(kind)
    credentials = {spec.name: f"{SECRET}-{spec.name}" for spec in connector.credentials_schema}
    return ChannelFactory(slug="acme", kind=kind, credentials=credentials)


# Every page and every action.


@pytest.mark.parametrize("kind", ChannelKind.values)
def test_change_page_of_every_kind_renders(admin_client, kind):
    channel = ChannelFactory(kind=kind)
    assert admin_client.get(change_url(channel)).status_code == 200


def test_channel_list_add_history_and_delete_pages_render(admin_client, channel):
    for name, args in [
        ("changelist", []),
        ("add", []),
        ("history", [channel.pk]),
        ("delete", [channel.pk]),
    ]:
        assert admin_client.get(reverse(f"admin:integrations_channel_{name}", args=args)).status_code == 200, name


def test_channel_list_takes_a_fixed_number_of_queries(admin_client, django_assert_max_num_queries):
    for _ in range(15):
        SyncIssueFactory(channel=ChannelFactory())
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("admin:integrations_channel_changelist"))
    assert response.status_code == 200


# Adding and editing.


def test_add_page_asks_for_the_channel_then_the_change_page_for_the_kind(admin_client):
    response = admin_client.post(
        reverse("admin:integrations_channel_add"),
        {"name": "Acme", "slug": "acme", "kind": "channeladvisor", "role": "sales", "enabled": "on", "_continue": "1"},
    )
    channel = Channel.objects.get(slug="acme")
    assert response.status_code == 302 and response["Location"] == change_url(channel)
    form = admin_client.get(change_url(channel)).context["adminform"].form
    connector = connector_class("channeladvisor")
    expected = {setting_field(s) for s in connector.settings_schema} | {
        credential_field(s) for s in connector.credentials_schema
    }
    assert expected <= set(form.fields)


def test_change_page_shows_credentials_as_empty_password_inputs(admin_client, channel):
    html = admin_client.get(change_url(channel)).content.decode()
    assert SECRET not in html
    for spec in connector_class(channel.kind).credentials_schema:
        assert f'type="password" name="{credential_field(spec)}"' in html
    assert "A value is stored; leave blank to keep it." in html


def test_saving_with_blank_credentials_keeps_the_stored_ones(admin_client, channel):
    stored = dict(channel.credentials)
    response = admin_client.post(change_url(channel), form_data(admin_client, channel, name="Acme renamed"))
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.credentials) == ("Acme renamed", stored)


def test_typed_credential_replaces_the_stored_one(admin_client, channel):
    spec = connector_class(channel.kind).credentials_schema[0]
    admin_client.post(change_url(channel), form_data(admin_client, channel, **{credential_field(spec): "new-value"}))
    channel.refresh_from_db()
    assert channel.credentials[spec.name] == "new-value"


def test_history_and_logs_never_mention_credentials(admin_client, channel, caplog):
    spec = connector_class(channel.kind).credentials_schema[0]
    data = form_data(admin_client, channel, name="Acme 2", **{credential_field(spec): "brand-new-secret"})
    with caplog.at_level(logging.DEBUG):
        admin_client.post(change_url(channel), data)
    entry = LogEntry.objects.get(object_id=str(channel.pk))
    assert "brand-new-secret" not in entry.change_message and spec.name not in entry.change_message
    assert "credential" not in entry.change_message.lower()
    assert entry.get_change_message() == "Changed Name."
    history = admin_client.get(reverse("admin:integrations_channel_history", args=[channel.pk])).content.decode()
    assert "brand-new-secret" not in history and SECRET not in history
    assert "brand-new-secret" not in caplog.text and SECRET not in caplog.text


def test_enabling_a_flow_with_an_interval_schedules_it(admin_client, channel):
    enabled, interval = flow_fields("orders.download")
    admin_client.post(change_url(channel), form_data(admin_client, channel, **{enabled: "on", interval: "3"}))
    channel.refresh_from_db()
    assert channel.flow_settings["orders.download"] == {"enabled": True, "interval": 3}
    schedule = Schedule.objects.get(name="switchyard:acme:orders.download")
    assert (schedule.func, schedule.minutes) == (RUN_FLOW, 3)


def test_kind_cannot_change_once_chosen(admin_client, channel):
    admin_client.post(change_url(channel), form_data(admin_client, channel, kind="nuorder"))
    channel.refresh_from_db()
    assert channel.kind == "channeladvisor"


# The per-kind form, on a connector class defined here: its schema is the point, not its HTTP.


class ExampleConnector(Connector, OrderSource, QuantitySink):
    kind = "example"
    settings_schema: ClassVar[tuple[SettingSpec, ...]] = (
        SettingSpec("profile_id", int, help="Profile to read orders from.", required=True),
        SettingSpec("mode", str, "absolute", choices=("absolute", "relative")),
        SettingSpec("export_orders", bool, True),
        SettingSpec("dc_codes", list, ()),
    )
    credentials_schema: ClassVar[tuple[CredentialSpec, ...]] = (
        CredentialSpec("refresh_token"),
        CredentialSpec("webhook_secret", required=False),
    )


def example_form(channel: Channel, **data: Any):
    base = {
        "name": channel.name,
        "slug": channel.slug,
        "kind": channel.kind,
        "role": channel.role,
        "base_url": channel.base_url,  # posted back unchanged, as the page does: a new one needs the credentials
    }
    return connector_form_class(ExampleConnector)({**base, **data}, instance=channel)


def test_form_has_a_typed_field_per_setting_and_a_flow_row_per_supported_flow():
    form = connector_form_class(ExampleConnector)(instance=ChannelFactory.build())
    kinds = {name: type(form.fields[f"setting_{name}"]).__name__ for name in ("profile_id", "mode", "export_orders")}
    assert kinds == {"profile_id": "IntegerField", "mode": "ChoiceField", "export_orders": "BooleanField"}
    # A quantity sink reads quantities back (to settle an unanswered push), so it can also reconcile.
    assert form.flows == ("orders.download", "inventory.upload", "inventory.reconcile", "integrations.ping")
    assert form.initial["flow_orders_download_interval"] == 10


def test_form_stores_validated_settings_with_defaults():
    channel = ChannelFactory(credentials={"refresh_token": "x"})
    form = example_form(channel, setting_profile_id="12", setting_dc_codes="DC1, DC2")
    assert form.is_valid(), form.errors
    form.save()
    channel.refresh_from_db()
    assert channel.settings == {
        "profile_id": 12,
        "mode": "absolute",
        "export_orders": False,
        "dc_codes": ["DC1", "DC2"],
    }


def test_form_refuses_a_setting_outside_its_choices():
    form = example_form(ChannelFactory(credentials={"refresh_token": "x"}), setting_profile_id="1", setting_mode="both")
    assert not form.is_valid()
    assert "setting_mode" in form.errors


def test_form_requires_a_required_credential_only_when_none_is_stored():
    missing = example_form(ChannelFactory(), setting_profile_id="1")
    assert not missing.is_valid()
    assert missing.errors["credential_refresh_token"] == ["This credential is required."]
    assert example_form(ChannelFactory(), setting_profile_id="1", credential_refresh_token="typed").is_valid()
    assert example_form(ChannelFactory(credentials={"refresh_token": "stored"}), setting_profile_id="1").is_valid()


def test_form_never_renders_a_stored_credential():
    channel = ChannelFactory(credentials={"refresh_token": SECRET})
    html = str(connector_form_class(ExampleConnector)(instance=channel))
    assert SECRET not in html


# Test connection, Run now, last runs.


def test_run_now_button_queues_the_flow(admin_client, channel, queued_tasks):
    response = admin_client.post(reverse("admin:integrations_channel_run", args=[channel.pk, "orders.download"]))
    assert response.status_code == 302
    assert [(t["func"], t["args"]) for t in queued_tasks()] == [(RUN_FLOW, (channel.pk, "orders.download", "manual"))]
    assert messages_of(response) == [f"Queued Order download on {channel}; it appears under Sync runs when it runs."]


def test_run_now_refuses_a_flow_the_channel_does_not_run(admin_client, channel, queued_tasks):
    response = admin_client.post(reverse("admin:integrations_channel_run", args=[channel.pk, "orders.submit"]))
    assert queued_tasks() == []
    assert messages_of(response) == [f"{channel} does not run Order submission."]


def test_run_now_needs_a_post(admin_client, channel):
    url = reverse("admin:integrations_channel_run", args=[channel.pk, "orders.download"])
    assert admin_client.get(url).status_code == 405


def test_test_connection_button_shows_the_reason_when_the_channel_does_not_answer(admin_client, settings):
    settings.HTTP_RETRY_ATTEMPTS = 1
    channel = FulfillmentChannelFactory(slug="wms", base_url="http://127.0.0.1:9/", credentials={"api_key": SECRET})
    response = admin_client.post(reverse("admin:integrations_channel_test", args=[channel.pk]))
    assert response.status_code == 302
    [message] = messages_of(response)
    assert message.startswith(f"{channel}: connection failed — wms: connection failed (GET ")
    assert SECRET not in message


def test_test_connection_button_shows_a_settings_problem_as_the_reason(admin_client):
    channel = FulfillmentChannelFactory(slug="wms", settings={"page_size": "lots"}, credentials={"api_key": "k"})
    response = admin_client.post(reverse("admin:integrations_channel_test", args=[channel.pk]))
    assert messages_of(response) == [f"{channel}: connection failed — setting 'page_size' must be a int"]


def test_test_connection_button_shows_what_answered(admin_client, sandbox_channel):
    channel = sandbox_channel("oms")
    response = admin_client.post(reverse("admin:integrations_channel_test", args=[channel.pk]))
    [message] = messages_of(response)
    assert message.startswith(f"{channel}: connected — ")


def test_change_page_shows_the_last_run_of_each_flow_in_bounded_queries(
    admin_client, channel, django_assert_max_num_queries
):
    for flow in ("orders.download", "inventory.upload", "shipments.upload"):
        SyncRunFactory.create_batch(5, channel=channel, flow=flow, status=SyncRun.Status.OK)
    latest = SyncRunFactory(channel=channel, flow="orders.download", status=SyncRun.Status.FAILED, error="boom")
    with django_assert_max_num_queries(10):
        response = admin_client.get(change_url(channel))
    panel = {row["flow"]: row for row in response.context["sync_panel"]}
    assert panel["orders.download"]["run"] == latest
    assert panel["inventory.upload"]["run"].status == SyncRun.Status.OK
    page = response.content.decode()
    assert 'class="sy-badge sy-failed"' in page and '<span title="boom">boom</span>' in page


def test_actions_test_connection_and_run_enabled_flows(admin_client, channel, queued_tasks, settings):
    settings.HTTP_RETRY_ATTEMPTS = 1
    channel.set_flow("orders.download", enabled=True)
    channel.save()
    unreachable = FulfillmentChannelFactory(slug="wms", base_url="http://127.0.0.1:9/", credentials={"api_key": "k"})
    url = reverse("admin:integrations_channel_changelist")
    tested = admin_client.post(url, {"action": "test_connection", "_selected_action": [unreachable.pk]}, follow=True)
    assert [m.split(" (GET ")[0] for m in messages_of(tested)] == [
        f"{unreachable}: connection failed — wms: connection failed"
    ]
    queued = admin_client.post(url, {"action": "run_enabled_flows", "_selected_action": [channel.pk]}, follow=True)
    assert "Queued 2 run(s)." in messages_of(queued)  # the health check is on by default
    assert [t["args"] for t in queued_tasks()] == [
        (channel.pk, "integrations.ping", "manual"),
        (channel.pk, "orders.download", "manual"),
    ]


def test_contacts_must_be_email_addresses_and_nothing_is_saved_otherwise():
    channel = ChannelFactory(credentials={"refresh_token": "x"})
    form = example_form(channel, setting_profile_id="1", contacts="ops@example.com\nnot-an-address")
    assert not form.is_valid()
    assert form.errors["contacts"] == ["Not an e-mail address: not-an-address"]
    channel.refresh_from_db()
    assert channel.contacts == ""


def test_contacts_and_webhook_are_saved_from_the_channel_form():
    channel = ChannelFactory(credentials={"refresh_token": "x"})
    hook = "https://hooks.example.com/services/T0/B0/x"
    form = example_form(
        channel, setting_profile_id="1", contacts="a@example.com, b@example.com", alert_webhook_url=hook
    )
    assert form.is_valid(), form.errors
    form.save()
    channel.refresh_from_db()
    assert (channel.contact_emails(), channel.alert_webhook_url) == (["a@example.com", "b@example.com"], hook)
