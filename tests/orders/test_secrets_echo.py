"""An upstream that echoes the hub's credentials back in its error body: the key and the access token the hub
obtained never reach a sync run, an issue, an order, an admin page or a log line."""

import pytest
from django.urls import reverse

from integrations.models import SyncIssue
from integrations.sandbox.oms import OmsSandbox
from orders.models import Order, OrderEvent

pytestmark = pytest.mark.django_db
OMS_KEY = OmsSandbox.credentials["api_key"]


def stored_texts(channel) -> str:
    """Every error text the hub stored for the channel's runs, issues and orders."""
    texts = [*channel.runs.values_list("error", flat=True)]
    texts += SyncIssue.objects.values_list("message", flat=True)
    texts += [str(p) for p in SyncIssue.objects.values_list("payload", flat=True)]
    texts += Order.objects.values_list("last_error", flat=True)
    texts += OrderEvent.objects.values_list("message", flat=True)
    return "\n".join(texts)


def test_the_fulfillment_key_echoed_by_a_refused_submission_is_redacted(sales, run, sandbox, console_log):
    channel = sales("channeladvisor")
    assert run(channel, "orders.download").status == "ok"
    sandbox.api("oms").inject("echo_credentials", times=1000, status=422, method="POST", path="/api/v1/orders$")
    submit = run(channel.fulfillment, "orders.submit")
    assert submit.status == "partial"
    messages = list(SyncIssue.objects.filter(flow="orders.submit").values_list("message", flat=True))
    assert messages and all("[redacted]" in message for message in messages)
    assert OMS_KEY not in stored_texts(channel.fulfillment) + stored_texts(channel)
    assert OMS_KEY not in console_log.getvalue()


def test_an_access_token_the_hub_obtained_and_an_upstream_echoed_is_redacted(sales, run, sandbox, console_log):
    channel = sales("channeladvisor")
    sandbox.api("channeladvisor").inject("echo_credentials", times=1000, status=400, method="GET", path="/v1/Orders")
    result = run(channel, "orders.download")
    assert result.status == "failed" and "[redacted]" in result.error
    (token,) = sandbox.api("channeladvisor").tokens  # the one access token granted to the hub in this run
    log = console_log.getvalue()
    assert "GET" in log  # the failing call was logged at DEBUG
    assert token not in stored_texts(channel) and token not in log


def test_test_connection_shows_the_failure_without_the_echoed_key(admin_client, oms, sandbox):
    sandbox.api("oms").inject("echo_credentials", status=400, path="/api/v1/warehouses")
    url = reverse("admin:integrations_channel_test", args=[oms.pk])
    page = admin_client.post(url, follow=True).content.decode()
    assert "connection failed" in page and "[redacted]" in page
    assert OMS_KEY not in page
