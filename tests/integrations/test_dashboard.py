from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from catalog.models import MappingStatus
from integrations.flows import flow_label
from integrations.health_matrix import health_matrix, runs_url
from integrations.models import Channel, SyncIssue, SyncRun
from integrations.svg import y_scale
from integrations.templatetags.dashboard import age, ago
from inventory.models import PushIntent
from orders.models import OrderStatus, UploadState
from tests.factories import (
    ChannelFactory,
    FulfillmentChannelFactory,
    ItemMappingFactory,
    SyncIssueFactory,
    SyncRunFactory,
)
from tests.inventory.factories import DiscrepancyFactory, PushIntentFactory
from tests.orders.factories import OrderFactory, ShipmentUploadFactory, UserFactory

pytestmark = pytest.mark.django_db


def run(channel, flow, status, minutes_ago, **values):
    """A finished run that started `minutes_ago` (started_at is auto_now_add: set it afterwards)."""
    made = SyncRunFactory(channel=channel, flow=flow, status=status, **values)
    SyncRun.objects.filter(pk=made.pk).update(started_at=timezone.now() - timedelta(minutes=minutes_ago))
    return made


def cells_of(channel):
    matrix = health_matrix(now=timezone.now())
    row = next(r for r in matrix.rows if r.channel == channel)
    return {cell.flow: cell for cell in row.cells if cell}


def enabled_channel(*flows, **values):
    channel = ChannelFactory(**values)
    for flow in flows:
        channel.set_flow(flow, enabled=True, interval=10)
    channel.save()
    return channel


def test_latest_run_ok_and_recent_is_green_with_its_time():
    channel = enabled_channel("orders.download")
    run(channel, "orders.download", SyncRun.Status.FAILED, 30)
    run(channel, "orders.download", SyncRun.Status.OK, 5)
    cell = cells_of(channel)["orders.download"]
    assert (cell.tone, cell.state) == ("ok", "ok")
    assert timezone.now() - cell.last_success_at < timedelta(minutes=6)


def test_failing_since_is_the_first_failure_after_the_last_success():
    channel = enabled_channel("orders.download")
    run(channel, "orders.download", SyncRun.Status.FAILED, 90)  # an older failure, ended by the success
    run(channel, "orders.download", SyncRun.Status.OK, 60)
    first = run(channel, "orders.download", SyncRun.Status.FAILED, 40)
    run(channel, "orders.download", SyncRun.Status.FAILED, 20, error="401 token refused")
    cell = cells_of(channel)["orders.download"]
    assert (cell.tone, cell.state, cell.error) == ("bad", "failing", "401 token refused")
    assert cell.failing_since == SyncRun.objects.get(pk=first.pk).started_at


def test_failing_since_the_first_run_when_it_never_succeeded():
    channel = enabled_channel("orders.download")
    first = run(channel, "orders.download", SyncRun.Status.FAILED, 40)
    run(channel, "orders.download", SyncRun.Status.FAILED, 20)
    cell = cells_of(channel)["orders.download"]
    assert cell.last_success_at is None
    assert cell.failing_since == SyncRun.objects.get(pk=first.pk).started_at


def test_skipped_and_dry_runs_do_not_hide_a_failure():
    channel = enabled_channel("orders.download")
    run(channel, "orders.download", SyncRun.Status.FAILED, 20)
    run(channel, "orders.download", SyncRun.Status.SKIPPED, 10)
    run(channel, "orders.download", SyncRun.Status.OK, 5, dry_run=True)
    assert cells_of(channel)["orders.download"].state == "failing"


def test_stale_when_no_success_for_three_intervals():
    channel = enabled_channel("orders.download")  # every 10 minutes
    run(channel, "orders.download", SyncRun.Status.OK, 31)
    cell = cells_of(channel)["orders.download"]
    assert (cell.tone, cell.state) == ("bad", "stale")


def test_not_stale_within_three_intervals():
    channel = enabled_channel("orders.download")
    run(channel, "orders.download", SyncRun.Status.OK, 29)
    assert cells_of(channel)["orders.download"].state == "ok"


def test_partial_run_is_amber():
    channel = enabled_channel("orders.download")
    run(channel, "orders.download", SyncRun.Status.PARTIAL, 3)
    cell = cells_of(channel)["orders.download"]
    assert (cell.tone, cell.state) == ("warn", "partial")


def test_enabled_flow_without_runs_is_amber():
    channel = enabled_channel("orders.download")
    assert cells_of(channel)["orders.download"].state == "never run"


def test_disabled_flow_or_channel_is_off_whatever_its_runs():
    channel = enabled_channel("orders.download")
    run(channel, "orders.download", SyncRun.Status.FAILED, 3)
    assert cells_of(channel)["inventory.upload"].tone == "off"  # never enabled
    channel.enabled = False
    channel.save()
    assert cells_of(channel)["orders.download"].tone == "off"


def test_flows_a_connector_does_not_run_have_no_cell():
    oms = FulfillmentChannelFactory()
    ChannelFactory()  # ChannelAdvisor: acknowledges orders
    matrix = health_matrix(now=timezone.now())
    row = next(r for r in matrix.rows if r.channel == oms)
    flows_without_cell = {flow for flow, cell in zip(matrix.flows, row.cells, strict=True) if cell is None}
    assert "orders.acknowledge" in flows_without_cell
    assert "orders.submit" not in flows_without_cell


def test_each_cell_links_to_its_flows_runs(admin_client):
    channel = enabled_channel("orders.download")
    mine = run(channel, "orders.download", SyncRun.Status.FAILED, 3)
    run(channel, "inventory.upload", SyncRun.Status.FAILED, 3)
    run(ChannelFactory(), "orders.download", SyncRun.Status.FAILED, 3)
    url = cells_of(channel)["orders.download"].url
    assert url == runs_url(channel, "orders.download")
    assert list(admin_client.get(url).context["cl"].result_list) == [mine]


def needs_a_person():
    """One row of each kind the counters count, and one of each that they must not."""
    channel = ChannelFactory()
    SyncIssueFactory(channel=channel)
    SyncIssueFactory(channel=channel, status=SyncIssue.Status.RESOLVED)
    OrderFactory(channel=channel, status=OrderStatus.HELD, hold_reason="unmapped_sku")
    OrderFactory(channel=channel, status=OrderStatus.FAILED)
    OrderFactory(channel=channel, status=OrderStatus.SUBMITTED)
    ItemMappingFactory(channel=channel, status=MappingStatus.UNMAPPED, item=None)
    ItemMappingFactory(channel=channel, status=MappingStatus.CONFLICT, item=None)
    ShipmentUploadFactory(channel=channel, state=UploadState.FAILED)
    ShipmentUploadFactory(channel=channel, state=UploadState.SENT)
    ignored = {"mapping__status": MappingStatus.IGNORED}  # the listings behind these are not to be counted
    DiscrepancyFactory(**ignored)
    PushIntentFactory(state=PushIntent.State.UNKNOWN, **ignored)
    PushIntentFactory(state=PushIntent.State.SENT, **ignored)


def counters_on(response) -> dict[str, tuple[int, str]]:
    return {c["label"]: (c["count"], c["url"]) for c in response.context["counters"]}


def test_counters_count_what_needs_a_person_and_link_to_those_rows(admin_client):
    needs_a_person()
    counters = counters_on(admin_client.get(reverse("admin:index")))
    assert {label: n for label, (n, _) in counters.items()} == {
        "open issues": 1,
        "held orders": 1,
        "orders failed to submit": 1,
        "unmapped listings": 1,
        "conflicting listings": 1,
        "failed shipment uploads": 1,
        "discrepancies": 1,
        "pushes of unknown outcome": 1,
    }
    for label, (_, url) in counters.items():
        response = admin_client.get(url)
        assert response.status_code == 200, label
        assert response.context["cl"].result_count == 1, label


def a_busy_world(channels: int) -> None:
    for _ in range(channels):
        channel = enabled_channel("orders.download", "inventory.upload", "integrations.ping")
        run(channel, "orders.download", SyncRun.Status.OK, 70)
        run(channel, "orders.download", SyncRun.Status.FAILED, 5)
        run(channel, "inventory.upload", SyncRun.Status.PARTIAL, 5)
        OrderFactory.create_batch(3, channel=channel)
    needs_a_person()


@pytest.mark.parametrize("channels", [1, 6])
def test_dashboard_costs_the_same_queries_whatever_the_number_of_channels_and_rows(
    admin_client, django_assert_num_queries, channels
):
    a_busy_world(channels)
    # session, user; the matrix (one query); eight counters; three charts.
    with django_assert_num_queries(2 + 1 + 8 + 3):
        response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert len(response.context["matrix"].rows) == Channel.objects.count() > channels


def test_dashboard_is_switchyards_home_with_its_favicon_and_the_model_list(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert '<div id="site-name"><a href="/admin/">Switchyard</a></div>' in html
    assert '<link rel="icon" type="image/svg+xml"' in html
    assert "<title>Dashboard | Switchyard</title>" in html
    assert reverse("admin:orders_order_changelist") in html  # the model list, below the dashboard


def test_charts_are_inline_svg_with_a_legend_per_series(admin_client):
    acme = ChannelFactory(name="Acme & Co")
    OrderFactory(channel=acme, placed_at=timezone.now() - timedelta(days=2))
    run(acme, "orders.download", SyncRun.Status.FAILED, 5)
    response = admin_client.get(reverse("admin:index"))
    titles = [chart["title"] for chart in response.context["charts"]]
    assert titles == [
        "Orders per day by channel (30 days)",
        "Sync runs per hour by status (48 hours)",
        "Inventory pushes per day (30 days)",
    ]
    orders_svg, runs_svg, _ = (str(chart["svg"]) for chart in response.context["charts"])
    assert orders_svg.startswith("<svg") and "Acme &amp; Co" in orders_svg  # the legend, escaped
    assert ": 1</title>" in orders_svg
    assert "Failed: 1</title>" in runs_svg
    html = response.content.decode()
    assert 'src="http' not in html and 'href="http' not in html  # no CDN: nothing loads from elsewhere


def test_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_staff_without_permissions_sees_no_figures(client):
    needs_a_person()
    client.force_login(UserFactory(is_staff=True))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert (response.context["matrix"], response.context["counters"], response.context["charts"]) == (None, [], [])


def test_staff_sees_only_the_figures_their_view_permissions_open(client):
    needs_a_person()
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert [c["label"] for c in response.context["counters"]] == ["held orders", "orders failed to submit"]
    assert [c["title"] for c in response.context["charts"]] == ["Orders per day by channel (30 days)"]
    assert response.context["matrix"] is None


@pytest.mark.parametrize(
    ("seconds", "text"), [(5, "5 s"), (61, "1 min"), (3 * 3600 + 59, "3 h"), (2 * 86400 + 7200, "2 d")]
)
def test_cell_ages_are_short(seconds, text):
    now = timezone.now()
    assert age(now - timedelta(seconds=seconds), now) == text
    assert ago(now - timedelta(seconds=seconds), now) == f"{text} ago"
    assert ago(None, now) == ""


@pytest.mark.parametrize(
    ("highest", "top", "step"), [(0, 1, 1), (3, 3, 1), (37, 40, 10), (48, 60, 20), (250, 300, 100)]
)
def test_chart_axis_has_round_whole_ticks(highest, top, step):
    assert y_scale(highest) == (top, step)


def test_the_dashboard_heads_its_flow_columns_with_flow_labels(admin_client):
    channel = ChannelFactory()
    channel.set_flow("orders.download", enabled=True)
    channel.save()
    page = admin_client.get(reverse("admin:index")).content.decode()
    head = page.split('<table class="sy-matrix">')[1].split("</thead>")[0]
    assert f"<th>{flow_label('orders.download')}</th>" in head and "<th>Health check</th>" in head
    assert "orders download" not in head and "orders.download" not in head
