"""POST /hooks/<channel>/orders: a signed, fresh, first-seen notification queues one immediate orders download."""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from orders.hooks import SIGNATURE_HEADER, hook_header, hook_signature
from orders.models import DownloadRequest, HookNonce

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
    signature = hook_header(secret=SECRET, body=body) if signature is None else signature
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
    assert notify(client, channel, body=b'{"event": "order.approved", "order_id": "6b03"}').json() == {"queued": True}
    assert len(queued_tasks()) == 2


def test_a_claim_whose_run_never_started_expires(client, channel, queued_tasks):
    notify(client, channel)
    DownloadRequest.objects.update(requested_at=timezone.now() - timedelta(minutes=16))
    assert notify(client, channel, body=b'{"event": "order.approved", "order_id": "6b04"}').json() == {"queued": True}


NOW = int(time.time())


@pytest.mark.parametrize(
    "signature",
    [
        "",
        f"t={NOW},v1=" + "0" * 64,
        hook_header(secret="another-secret", body=BODY),
        hook_header(secret=SECRET, body=b"x"),
        "sha256=" + hook_signature(secret=SECRET, timestamp=NOW, body=BODY),  # the old scheme: no timestamp
        f"v1={hook_signature(secret=SECRET, timestamp=NOW, body=BODY)}",
        f"t={NOW},t={NOW},v1={hook_signature(secret=SECRET, timestamp=NOW, body=BODY)}",
        f"t={NOW},v1=é{hook_signature(secret=SECRET, timestamp=NOW, body=BODY)[1:]}",
        "t=1,v1=ünïcödé",
    ],
    ids=[
        "missing",
        "zeros",
        "wrong-secret",
        "other-body",
        "no-timestamp",
        "v1-only",
        "two-timestamps",
        "non-ascii",
        "non-ascii-short",
    ],
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


def test_a_signature_header_with_non_ascii_characters_is_refused_not_a_server_error(client, channel):
    for header in ["t=1,v1=\u00e9\u00e8", "\u2603", f"t={int(time.time())},v1=" + "\u00e9" * 64]:
        assert notify(client, channel, signature=header).status_code == 403


def test_a_replayed_notification_is_refused(client, channel, queued_tasks):
    header = hook_header(secret=SECRET, body=BODY)
    assert notify(client, channel, signature=header).status_code == 202
    assert notify(client, channel, signature=header).status_code == 403
    assert len(queued_tasks()) == 1 and HookNonce.objects.count() == 1


@pytest.mark.parametrize("age", [301, -301], ids=["too-old", "from-the-future"])
def test_a_timestamp_outside_the_tolerance_is_refused(client, channel, queued_tasks, age):
    header = hook_header(secret=SECRET, body=BODY, timestamp=int(time.time()) - age)
    assert notify(client, channel, signature=header).status_code == 403
    assert queued_tasks() == []


def test_the_tolerance_is_a_setting(client, channel, settings):
    settings.HOOK_TOLERANCE = 3600
    header = hook_header(secret=SECRET, body=BODY, timestamp=int(time.time()) - 1800)
    assert notify(client, channel, signature=header).status_code == 202


def test_signatures_older_than_the_window_are_forgotten(client, channel):
    old = HookNonce.objects.create(channel=channel, signature="a" * 64, seen_at=timezone.now() - timedelta(hours=1))
    assert notify(client, channel).status_code == 202
    assert not HookNonce.objects.filter(pk=old.pk).exists()


def marked_sensitive(func) -> set[str]:
    """The variable names Django's error reports hide for `func` (set by @sensitive_variables once called)."""
    names: set[str] = set()
    while func is not None:
        names |= set(getattr(func, "sensitive_variables", ()))
        func = getattr(func, "__wrapped__", None)
    return names


def test_the_view_and_the_check_mark_their_secrets_sensitive(client, channel):
    from orders.hooks import hook_refusal
    from orders.views import orders_hook

    notify(client, channel)
    assert "header" in marked_sensitive(orders_hook)
    assert {"secret", "expected", "header"} <= marked_sensitive(hook_refusal)
