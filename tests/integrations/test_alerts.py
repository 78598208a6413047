"""The alert digest: to each channel's contacts when a flow turns red or stale or new issues open, at most one per
hour per channel, by e-mail (locmem backend) and to a webhook (a real HTTP server on 127.0.0.1)."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.utils import timezone

from integrations.alerts import alert_digest, alerts_send
from integrations.health import PING
from integrations.models import Channel, SyncRun
from integrations.runner import flow_run
from tests.factories import SyncIssueFactory, SyncRunFactory

pytestmark = pytest.mark.django_db
CONTACTS = "ops@example.com, buyer@example.com"


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://hub.example.com"
    settings.ALERT_INTERVAL_MINUTES = 60


@pytest.fixture
def refused(sandbox_channel, site):
    """The OMS sandbox refusing the channel's key, with two contacts."""
    return sandbox_channel("oms", credentials={"api_key": "wrong"}, contacts=CONTACTS)


@pytest.fixture
def webhook():
    """A Slack-like receiver on 127.0.0.1: the JSON bodies POSTed to it."""
    received = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/alerts", received
    server.shutdown()
    server.server_close()


def ping(channel) -> SyncRun:
    return flow_run(channel=channel, flow=PING, trigger=SyncRun.Trigger.SCHEDULE)


def an_hour_passes(channel: Channel) -> None:
    Channel.objects.filter(pk=channel.pk).update(alerted_at=timezone.now() - timedelta(minutes=61))


def test_a_flow_turning_red_sends_one_digest_to_the_contacts_with_absolute_links(refused):
    run = ping(refused)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ops@example.com", "buyer@example.com"]
    assert message.subject == "[Switchyard] Fulfillment (sandbox OMS): 1 flow(s) failing, 1 new issue(s)"
    assert f"- {PING}: failed since" in message.body
    assert f"https://hub.example.com/admin/integrations/syncrun/{run.pk}/change/" in message.body
    issue = refused.issues.get()
    assert f"https://hub.example.com/admin/integrations/syncissue/{issue.pk}/change/" in message.body


def test_at_most_one_digest_per_hour_per_channel(refused):
    ping(refused)
    SyncIssueFactory(channel=refused, flow="orders.submit", message="line 1: SKU X is not mapped")
    ping(refused)
    assert len(mail.outbox) == 1  # the new issue waits for the next slot
    an_hour_passes(refused)
    ping(refused)
    assert len(mail.outbox) == 2
    assert "line 1: SKU X is not mapped" in mail.outbox[1].body


def test_no_digest_without_news_even_after_an_hour(refused):
    ping(refused)
    an_hour_passes(refused)
    ping(refused)  # still red, no new issue: nothing new to say
    assert len(mail.outbox) == 1


def test_two_workers_with_the_same_news_send_one_digest(refused, register_flow):
    SyncRunFactory(channel=refused, flow=PING, status=SyncRun.Status.FAILED, error="refused")
    first, second = Channel.objects.get(pk=refused.pk), Channel.objects.get(pk=refused.pk)  # both read the slot free
    assert [alerts_send(channel=first), alerts_send(channel=second)] == [True, False]
    assert len(mail.outbox) == 1


def test_a_flow_that_recovered_and_fails_again_is_news_again(refused, sandbox):
    ping(refused)
    api_key = sandbox.channel_values("oms")["credentials"]
    Channel.objects.filter(pk=refused.pk).update(credentials=api_key)
    refused.refresh_from_db()
    assert ping(refused).status == "ok"
    Channel.objects.filter(pk=refused.pk).update(credentials={"api_key": "wrong"})
    refused.refresh_from_db()
    an_hour_passes(refused)
    ping(refused)
    assert len(mail.outbox) == 2


def test_a_stale_flow_is_listed_with_a_link_to_its_runs(sandbox_channel, site):
    channel = sandbox_channel("oms", contacts="ops@example.com")
    channel.set_flow("orders.submit", enabled=True, interval=5)
    channel.save()
    old = SyncRunFactory(channel=channel, flow="orders.submit", status=SyncRun.Status.OK)
    SyncRun.objects.filter(pk=old.pk).update(started_at=timezone.now() - timedelta(minutes=16))
    channel.refresh_from_db()
    ping(channel)  # the health check succeeds, and notices the stale flow
    (message,) = mail.outbox
    assert "1 flow(s) stale" in message.subject
    assert "- orders.submit: last success" in message.body
    assert "https://hub.example.com/admin/integrations/syncrun/?channel__id__exact=" in message.body


def test_a_flow_never_run_is_stale_only_three_intervals_after_it_was_switched_on(sandbox_channel, site):
    channel = sandbox_channel("oms", contacts="ops@example.com")
    channel.set_flow("orders.submit", enabled=True, interval=5)
    channel.save()
    assert alert_digest(channel=channel).stale == []
    Channel.objects.filter(pk=channel.pk).update(updated_at=timezone.now() - timedelta(minutes=16))
    channel.refresh_from_db()
    assert [health.flow for health in alert_digest(channel=channel).stale] == ["orders.submit"]


def test_a_channel_without_contacts_or_webhook_gets_no_digest(sandbox_channel):
    ping(sandbox_channel("oms", credentials={"api_key": "wrong"}))
    assert mail.outbox == []


def test_the_webhook_gets_the_same_digest_as_slack_json(sandbox_channel, site, webhook):
    url, received = webhook
    channel = sandbox_channel("oms", credentials={"api_key": "wrong"}, alert_webhook_url=url)
    ping(channel)
    assert mail.outbox == []
    (body,) = received
    assert list(body) == ["text"]
    assert "Fulfillment (sandbox OMS): 1 flow(s) failing" in body["text"]
    assert "https://hub.example.com/admin/integrations/syncrun/" in body["text"]


def test_a_digest_that_could_not_be_delivered_frees_the_slot(sandbox_channel, site):
    channel = sandbox_channel("oms", credentials={"api_key": "wrong"}, alert_webhook_url="http://127.0.0.1:9/")
    ping(channel)
    channel.refresh_from_db()
    assert channel.alerted_at is None  # the next check tries again


def test_the_digest_reads_a_bounded_number_of_queries(refused, django_assert_max_num_queries):
    ping(refused)
    refused.refresh_from_db()
    with django_assert_max_num_queries(5):
        digest = alert_digest(channel=refused)
    assert [health.flow for health in digest.red] == [PING]


def test_a_failing_webhook_never_logs_its_url(sandbox_channel, site, caplog):
    secret = "T000/B000/XXXXSECRET"
    channel = sandbox_channel("oms", credentials={"api_key": "wrong"}, alert_webhook_url=f"http://127.0.0.1:9/{secret}")
    ping(channel)
    assert "alert webhook of oms-sandbox failed" in caplog.text
    assert secret not in caplog.text
