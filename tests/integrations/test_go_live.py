"""The go-live date lives on the channel: the flows that start from it (order and cancellation download) cannot
be switched on, nor run by hand, without one — the model, the channel page, "Run now", the list action and the
runner each refuse it with the reason and change nothing."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django_q.models import Schedule

from integrations.connectors import connector_class
from integrations.cursors import cursor_advance
from integrations.flows import needs_go_live, registered
from integrations.forms import flow_fields
from integrations.models import Channel, GoLiveMissing, SyncRun
from integrations.runner import flow_run
from tests.factories import ChannelFactory
from tests.integrations.test_admin_channels import change_url, form_data, messages_of

pytestmark = pytest.mark.django_db
GO_LIVE = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
ENABLED, INTERVAL = flow_fields("orders.download")
CREDENTIALS = {spec.name: f"stored-{spec.name}" for spec in connector_class("channeladvisor").credentials_schema}


def undated(**values) -> Channel:
    """A ChannelAdvisor channel with every credential its page requires, and no go-live date."""
    return ChannelFactory(name="Acme", slug="acme", go_live_at=None, credentials=CREDENTIALS, **values)


def test_order_and_cancellation_download_are_the_flows_that_need_a_go_live_date():
    assert sorted(name for name in registered() if needs_go_live(name)) == [
        "cancellations.download",
        "orders.download",
    ]


def test_switching_on_a_flow_that_needs_the_date_without_one_raises_and_changes_nothing():
    channel = undated()
    with pytest.raises(GoLiveMissing, match="Order download needs a go-live date"):
        channel.set_flow("orders.download", enabled=True)
    assert channel.flow_settings == {}
    channel.set_flow("inventory.upload", enabled=True)  # a flow that does not start from it
    channel.set_flow("orders.download", enabled=False)  # switching off never needs one
    channel.go_live_at = GO_LIVE
    channel.set_flow("orders.download", enabled=True)
    assert channel.enabled_flows() == ["integrations.ping", "inventory.upload", "orders.download"]


def test_the_channel_page_refuses_order_download_without_a_date_and_says_why(admin_client):
    channel = undated()
    response = admin_client.post(change_url(channel), form_data(admin_client, channel, **{ENABLED: "on"}))
    assert response.status_code == 200  # the form again, with its errors
    errors = response.context["adminform"].form.errors
    assert set(errors) == {ENABLED, "go_live_at"}
    assert "Order download needs a go-live date: set the channel's go-live date first." in errors[ENABLED][0]
    assert errors["go_live_at"] == ["Required while Order download is on."]
    channel.refresh_from_db()
    assert channel.flow_settings == {} and not Schedule.objects.filter(name__endswith="orders.download").exists()


def test_the_channel_page_takes_the_date_and_the_flow_in_one_save(admin_client):
    channel = undated()
    data = form_data(admin_client, channel, **{ENABLED: "on", "go_live_at_0": "2026-11-01", "go_live_at_1": "08:00"})
    response = admin_client.post(change_url(channel), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    channel.refresh_from_db()
    assert channel.go_live_at == GO_LIVE and channel.flow_enabled("orders.download")


def test_the_date_cannot_be_cleared_while_order_download_is_on(admin_client):
    channel = ChannelFactory(slug="acme", go_live_at=GO_LIVE, credentials=CREDENTIALS)
    channel.set_flow("orders.download", enabled=True)
    channel.save()
    data = form_data(admin_client, channel, go_live_at_0=None, go_live_at_1=None)
    response = admin_client.post(change_url(channel), data)
    assert response.context["adminform"].form.errors["go_live_at"] == ["Required while Order download is on."]
    channel.refresh_from_db()
    assert channel.go_live_at == GO_LIVE


def test_the_channel_page_shows_the_date_in_its_own_section_with_the_reason(admin_client):
    channel = ChannelFactory(go_live_at=GO_LIVE)
    page = admin_client.get(change_url(channel)).content.decode()
    assert "Go-live" in page and 'name="go_live_at_0"' in page and 'value="2026-11-01"' in page
    assert "without it that first download would read every order the channel has" in page
    add = admin_client.get(reverse("admin:integrations_channel_add")).content.decode()
    assert 'name="go_live_at_0"' in add


def test_run_now_without_a_date_is_refused_and_queues_nothing(admin_client, queued_tasks):
    channel = undated()
    url = reverse("admin:integrations_channel_run", args=[channel.pk, "orders.download"])
    response = admin_client.post(url, follow=True)
    assert messages_of(response) == [
        "Not run: Order download needs a go-live date: set the channel's go-live date first. Without one its first "
        "run would read every order the channel has ever had."
    ]
    assert queued_tasks() == [] and not SyncRun.objects.exists()
    ping = admin_client.post(reverse("admin:integrations_channel_run", args=[channel.pk, "integrations.ping"]))
    assert ping.status_code == 302 and [t["args"][1] for t in queued_tasks()] == ["integrations.ping"]


def test_run_enabled_flows_skips_an_undated_order_download_and_says_so(admin_client, queued_tasks):
    # Switched on before the date moved to the channel (set as the flow settings were then, not through set_flow).
    channel = undated(flow_settings={"orders.download": {"enabled": True}})
    url = reverse("admin:integrations_channel_changelist")
    response = admin_client.post(url, {"action": "run_enabled_flows", "_selected_action": [channel.pk]}, follow=True)
    assert messages_of(response) == [
        "Queued 1 run(s).",
        "Not run: Order download on Acme (they need a go-live date: set the channel's go-live date first).",
    ]
    assert [t["args"][1] for t in queued_tasks()] == ["integrations.ping"]


def test_the_runner_never_makes_a_first_run_without_a_date(register_flow):
    calls = []
    register_flow("orders.download", lambda channel, **kwargs: calls.append(kwargs))
    channel = undated()
    run = flow_run(channel=channel, flow="orders.download", trigger=SyncRun.Trigger.SCHEDULE)
    assert run.status == SyncRun.Status.SKIPPED and run.error.startswith("Order download needs a go-live date")
    assert calls == []
    # An explicit start (`sync --since`) is not a first run that reads everything.
    assert flow_run(channel=channel, flow="orders.download", trigger="command", since=GO_LIVE).status == "ok"
    # A download already running from its cursor (switched on before the date moved here) keeps going.
    cursor_advance(channel=channel, flow="orders.download", position=GO_LIVE)
    assert flow_run(channel=channel, flow="orders.download", trigger=SyncRun.Trigger.SCHEDULE).status == "ok"
    assert len(calls) == 2
