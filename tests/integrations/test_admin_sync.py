from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from integrations.models import SyncIssue, SyncRun
from tests.factories import ChannelFactory, SyncCursorFactory, SyncIssueFactory, SyncRunFactory

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_every_sync_page_renders(admin_client):
    run = SyncRunFactory()
    issue = SyncIssueFactory(last_run=run)
    cursor = SyncCursorFactory(position="2024-01-01T00:00:00.000000+00:00")
    for model, obj in [("syncrun", run), ("syncissue", issue), ("synccursor", cursor)]:
        assert admin_client.get(reverse(f"admin:integrations_{model}_changelist")).status_code == 200, model
        assert admin_client.get(reverse(f"admin:integrations_{model}_change", args=[obj.pk])).status_code == 200, model


def test_run_list_filters_by_channel_flow_and_status(admin_client):
    acme, other = ChannelFactory(), ChannelFactory()
    wanted = SyncRunFactory(channel=acme, flow="orders.download", status=SyncRun.Status.FAILED)
    SyncRunFactory(channel=acme, flow="orders.download", status=SyncRun.Status.OK)
    SyncRunFactory(channel=acme, flow="integrations.ping", status=SyncRun.Status.FAILED)
    SyncRunFactory(channel=other, flow="orders.download", status=SyncRun.Status.FAILED)
    query = f"?channel__id__exact={acme.pk}&flow=integrations.ping&status__exact=failed"
    response = admin_client.get(reverse("admin:integrations_syncrun_changelist") + query)
    assert [r.flow for r in response.context["cl"].result_list] == ["integrations.ping"]
    query = f"?channel__id__exact={acme.pk}&status__exact=failed&flow=orders.download"
    response = admin_client.get(reverse("admin:integrations_syncrun_changelist") + query)
    assert list(response.context["cl"].result_list) == [wanted]


def test_run_list_shows_durations(admin_client):
    run = SyncRunFactory()
    SyncRun.objects.filter(pk=run.pk).update(finished_at=run.started_at + timedelta(seconds=83.4))
    SyncRunFactory(status=SyncRun.Status.RUNNING, finished_at=None)
    html = admin_client.get(reverse("admin:integrations_syncrun_changelist")).content.decode()
    assert "83.4s" in html and ">running<" in html


def test_run_list_takes_a_fixed_number_of_queries(admin_client, django_assert_max_num_queries):
    SyncRunFactory.create_batch(60, channel=ChannelFactory())
    SyncRunFactory.create_batch(40, channel=ChannelFactory())
    with django_assert_max_num_queries(8):
        assert admin_client.get(reverse("admin:integrations_syncrun_changelist")).status_code == 200


def test_issue_list_puts_open_issues_first(admin_client):
    resolved = SyncIssueFactory(status=SyncIssue.Status.RESOLVED, resolved_at=timezone.now())
    opened = SyncIssueFactory()
    response = admin_client.get(reverse("admin:integrations_syncissue_changelist"))
    assert list(response.context["cl"].result_list) == [opened, resolved]


def test_issue_list_takes_a_fixed_number_of_queries(admin_client, django_assert_max_num_queries):
    for channel in ChannelFactory.create_batch(5):
        SyncIssueFactory.create_batch(10, channel=channel)
    with django_assert_max_num_queries(8):
        assert admin_client.get(reverse("admin:integrations_syncissue_changelist")).status_code == 200


def test_issue_page_shows_the_payload_pretty_printed_and_read_only(admin_client):
    issue = SyncIssueFactory(payload={"order": "1001", "lines": [{"sku": "X", "qty": 2}]})
    html = admin_client.get(reverse("admin:integrations_syncissue_change", args=[issue.pk])).content.decode()
    assert "<pre>{\n  &quot;lines&quot;: [\n    {\n      &quot;qty&quot;: 2," in html
    assert 'name="payload"' not in html


def test_retry_action_queues_one_run_per_channel_and_flow(admin_client, queued_tasks):
    acme = ChannelFactory(slug="acme")
    issues = [
        *SyncIssueFactory.create_batch(3, channel=acme, flow="orders.download"),
        SyncIssueFactory(channel=acme, flow="shipments.upload"),
    ]
    response = admin_client.post(
        reverse("admin:integrations_syncissue_changelist"),
        {"action": "retry", "_selected_action": [i.pk for i in issues]},
        follow=True,
    )
    assert "Queued 2 run(s); issues resolve when their record goes through." in messages_of(response)
    assert sorted(t["args"] for t in queued_tasks()) == [
        (acme.pk, "orders.download", "manual"),
        (acme.pk, "shipments.upload", "manual"),
    ]
    assert SyncIssue.objects.filter(status=SyncIssue.Status.OPEN).count() == 4


def test_resolve_action_resolves_the_selected_open_issues(admin_client):
    chosen, untouched = SyncIssueFactory(), SyncIssueFactory()
    response = admin_client.post(
        reverse("admin:integrations_syncissue_changelist"),
        {"action": "resolve", "_selected_action": [chosen.pk]},
        follow=True,
    )
    assert "Resolved 1 issue(s)." in messages_of(response)
    chosen.refresh_from_db()
    untouched.refresh_from_db()
    assert (chosen.status, untouched.status) == (SyncIssue.Status.RESOLVED, SyncIssue.Status.OPEN)
    assert chosen.resolved_at is not None


def test_run_list_shows_flows_in_words_status_badges_and_long_errors_cut_with_the_whole_on_hover(admin_client):
    error = "ChannelAdvisor refused the credentials (invalid_grant): " + "the refresh token was revoked " * 5
    SyncRunFactory(flow="orders.download", status=SyncRun.Status.FAILED, error=error)

    page = admin_client.get(reverse("admin:integrations_syncrun_changelist")).content.decode()

    assert "Order download" in page and ">orders.download<" not in page
    assert 'class="sy-badge sy-failed"' in page
    assert f'title="{error.strip()}"' in page  # the whole error on hover
    assert error.strip() not in page.replace(f'title="{error.strip()}"', "")  # and only a cut of it in the cell
    assert "switchyard/lists.css" in page


def test_issue_list_cuts_long_messages_and_counts_repeats(admin_client):
    SyncIssueFactory(message="x " * 200, occurrences=3)

    page = admin_client.get(reverse("admin:integrations_syncissue_changelist")).content.decode()

    assert "3 times" in page and 'class="sy-cut"' in page


def test_nobody_adds_an_issue_by_hand(admin_client):
    assert admin_client.get(reverse("admin:integrations_syncissue_add")).status_code == 403
    assert "Add sync issue" not in admin_client.get(reverse("admin:integrations_syncissue_changelist")).content.decode()
