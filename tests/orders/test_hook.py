"""POST /hooks/<channel>/orders: an HMAC-signed notification queues one immediate orders download."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from orders.hooks import SIGNATURE_HEADER, hook_signature
from orders.models import DownloadRequest

pytestmark = pytest.mark.django_db
SECRET = "hook-secret-5b1f"
BODY = json.dumps({"event": "order.approved", "order_id": "6b01"}).encode()


@pytest.fixture
def channel(sales):
    channel = sales("extensiv")
    channel.credentials = {**channel.credentials, "hook_secret": SECRET}
    channel.save()
    return channel


def notify(client, channel, body=BODY, signature=None):
    signature = hook_signature(secret=SECRET, body=body) if signature is None else signature
    headers = {SIGNATURE_HEADER: signature} if signature else {}
    return client.post(f"/hooks/{channel.slug}/orders", data=body, content_type="application/json", headers=headers)


def test_a_correctly_signed_notification_queues_one_orders_download(client, channel, queued_tasks):
    response = notify(client, channel)
    assert (response.status_code, response.json()) == (202, {"queued": True})
    (task,) = queued_tasks()
    assert task["func"] == "integrations.tasks.run_flow"
    assert task["args"] == (channel.pk, "orders.download", "hook")


def test_a_repeated_notification_does_not_queue_a_second_run_while_one_is_pending(client, channel, queued_tasks):
    notify(client, channel)
    second = notify(client, channel, body=b'{"event": "order.approved", "order_id": "6b02"}')
    assert (second.status_code, second.json()) == (202, {"queued": False})
    assert len(queued_tasks()) == 1
    assert DownloadRequest.objects.get(channel=channel).notifications == 2


def test_once_the_download_starts_the_next_notification_queues_again(client, channel, queued_tasks, run):
    notify(client, channel)
    assert run(channel, "orders.download").status == "ok"
    assert DownloadRequest.objects.get(channel=channel).requested_at is None
    assert notify(client, channel).json() == {"queued": True}
    assert len(queued_tasks()) == 2


def test_a_claim_whose_run_never_started_expires(client, channel, queued_tasks):
    notify(client, channel)
    DownloadRequest.objects.update(requested_at=timezone.now() - timedelta(minutes=16))
    assert notify(client, channel).json() == {"queued": True}


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "sha256=" + "0" * 64,
        hook_signature(secret="another-secret", body=BODY),
        hook_signature(secret=SECRET, body=b"x"),
    ],
    ids=["missing", "zeros", "wrong-secret", "other-body"],
)
def test_a_bad_signature_is_refused_and_queues_nothing(client, channel, queued_tasks, signature):
    response = notify(client, channel, signature=signature or "")
    assert response.status_code == 403
    assert queued_tasks() == []


def test_an_unknown_channel_and_a_channel_without_a_secret_answer_like_a_bad_signature(
    client, channel, sales, queued_tasks
):
    channel.slug = "renamed"  # not saved: the URL names a channel that does not exist
    assert notify(client, channel).status_code == 403
    other = sales("nuorder")
    assert notify(client, other).status_code == 403
    assert queued_tasks() == []


def test_only_post_is_accepted(client, channel):
    assert client.get(f"/hooks/{channel.slug}/orders").status_code == 405
