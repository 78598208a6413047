"""Acting from the issue page: a link to the order, shipment or listing it is about, Retry and Resolve (with a
note) behind the change permission; a run's page lists the issues it opened."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from integrations.models import CHANNEL_ISSUE_KEY, SyncIssue
from tests.factories import ChannelFactory, ItemMappingFactory, SyncIssueFactory, SyncRunFactory
from tests.orders.factories import OrderFactory, ShipmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def page(client, issue) -> str:
    return client.get(reverse("admin:integrations_syncissue_change", args=[issue.pk])).content.decode()


@pytest.fixture
def viewer(client):
    """Staff who may view issues but not change them."""
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_syncissue"))
    client.force_login(user)
    return client


def test_an_order_issue_links_to_the_order(admin_client):
    order = OrderFactory(number="SO-7")
    issue = SyncIssueFactory(channel=order.channel, flow="orders.acknowledge", record_key=order.external_id)
    html = page(admin_client, issue)
    assert f'<a href="{reverse("admin:orders_order_change", args=[order.pk])}">order SO-7</a>' in html


def test_a_submission_issue_on_the_fulfillment_channel_links_to_the_order(admin_client):
    order = OrderFactory()
    issue = SyncIssueFactory(flow="orders.submit", record_key=f"{order.channel.slug}/{order.external_id}")
    assert reverse("admin:orders_order_change", args=[order.pk]) in page(admin_client, issue)


def test_a_shipment_upload_issue_links_to_the_shipment(admin_client):
    shipment = ShipmentFactory()
    issue = SyncIssueFactory(channel=shipment.order.channel, flow="shipments.upload", record_key=shipment.external_id)
    assert reverse("admin:orders_shipment_change", args=[shipment.pk]) in page(admin_client, issue)


def test_a_listing_and_a_push_issue_link_to_the_listing(admin_client):
    mapping = ItemMappingFactory(channel_sku="1001-RED-X")
    conflict = SyncIssueFactory(channel=mapping.channel, flow="catalog.download", record_key="1001-RED-X")
    push = SyncIssueFactory(channel=mapping.channel, flow="inventory.upload", record_key="1001-RED-X@11")
    url = reverse("admin:catalog_itemmapping_change", args=[mapping.pk])
    assert url in page(admin_client, conflict) and url in page(admin_client, push)


def test_a_channel_level_issue_is_about_the_channel_as_a_whole(admin_client):
    issue = SyncIssueFactory(record_key=CHANNEL_ISSUE_KEY, flow="integrations.ping")
    assert "the channel as a whole" in page(admin_client, issue)


def test_the_issue_list_links_its_rows_without_a_query_per_row(admin_client):
    def orders_with_issues(n):
        for order in OrderFactory.create_batch(n):
            SyncIssueFactory(channel=order.channel, flow="orders.download", record_key=order.external_id)

    url = reverse("admin:integrations_syncissue_changelist")
    orders_with_issues(2)
    baseline = _queries(admin_client, url)
    orders_with_issues(8)
    response = admin_client.get(url)
    assert len(re.findall(r'href="/admin/orders/order/\d+/change/"', response.content.decode())) == 10
    assert _queries(admin_client, url) == baseline


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_retry_queues_a_run_of_the_issues_flow(admin_client, queued_tasks):
    issue = SyncIssueFactory(flow="orders.download")
    response = admin_client.post(reverse("admin:integrations_syncissue_retry", args=[issue.pk]))
    assert response.status_code == 302
    assert [t["args"] for t in queued_tasks()] == [(issue.channel_id, "orders.download", "manual")]


def test_resolve_stores_the_note_and_the_page_shows_it(admin_client):
    issue = SyncIssueFactory()
    url = reverse("admin:integrations_syncissue_resolve", args=[issue.pk])
    admin_client.post(url, {"note": "mapped the SKU by hand"})
    issue.refresh_from_db()
    assert (issue.status, issue.resolution_note) == ("resolved", "mapped the SKU by hand")
    html = page(admin_client, issue)
    assert "mapped the SKU by hand" in html
    assert "formaction" not in html  # nothing to act on once resolved


def test_an_open_issue_page_offers_retry_and_resolve(admin_client):
    html = page(admin_client, SyncIssueFactory())
    assert ">Retry</button>" in html and ">Resolve</button>" in html


def test_without_the_change_permission_there_are_no_buttons_and_posting_is_forbidden(viewer, queued_tasks):
    issue = SyncIssueFactory()
    assert "formaction" not in page(viewer, issue)
    assert viewer.post(reverse("admin:integrations_syncissue_retry", args=[issue.pk])).status_code == 403
    assert viewer.post(reverse("admin:integrations_syncissue_resolve", args=[issue.pk])).status_code == 403
    issue.refresh_from_db()
    assert issue.status == "open" and queued_tasks() == []


def test_retry_and_resolve_take_only_post(admin_client):
    issue = SyncIssueFactory()
    assert admin_client.get(reverse("admin:integrations_syncissue_resolve", args=[issue.pk])).status_code == 405


def test_a_runs_page_lists_the_issues_it_opened(admin_client):
    channel = ChannelFactory()
    run = SyncRunFactory(channel=channel, flow="orders.download")
    SyncIssueFactory(channel=channel, flow="orders.download", record_key="A-1", last_run=run)
    SyncIssueFactory(channel=channel, flow="orders.acknowledge", record_key="OTHER", last_run=None)
    html = admin_client.get(reverse("admin:integrations_syncrun_change", args=[run.pk])).content.decode()
    issue = SyncIssue.objects.get(record_key="A-1")
    assert f'<a href="{reverse("admin:integrations_syncissue_change", args=[issue.pk])}">A-1</a>' in html
    assert "OTHER" not in html
