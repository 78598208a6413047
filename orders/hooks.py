"""Order notifications from channels that can send them: `POST /hooks/<channel slug>/orders`, signed with
HMAC-SHA256 of the body and the channel's `hook_secret` credential, queues an immediate orders download.

At most one hook-triggered download is pending per channel: the request claims `DownloadRequest.requested_at`
with a conditional UPDATE (the row count says who won, on any database and either django-q2 broker), and the
download clears it when it starts, so a notification arriving during a run queues the next one.
"""

import hashlib
import hmac
from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone

from integrations.models import Channel, SyncRun
from integrations.queue import queue_flow
from orders.models import DownloadRequest

SIGNATURE_HEADER = "X-Switchyard-Signature"
SIGNATURE_PREFIX = "sha256="
# A claim older than this is taken to be lost (a queued task that never ran) and can be claimed again.
PENDING_FOR = timedelta(minutes=15)


def hook_signature(*, secret: str, body: bytes) -> str:
    """The header value a sender computes: `sha256=` + the hex HMAC-SHA256 of the raw body."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def hook_signature_valid(*, channel: Channel, body: bytes, signature: str) -> bool:
    """True when the signature matches the channel's hook secret (compared in constant time)."""
    secret = str(channel.credentials.get("hook_secret") or "")
    if not secret:
        return False
    return hmac.compare_digest(hook_signature(secret=secret, body=body), signature.strip())


def download_request(*, channel: Channel) -> bool:
    """Queue an orders download for a notification unless one is already pending; True when queued."""
    now = timezone.now()
    DownloadRequest.objects.get_or_create(channel=channel)
    rows = DownloadRequest.objects.filter(channel=channel)
    seen = {"notifications": F("notifications") + 1, "last_notified_at": now}
    free = Q(requested_at__isnull=True) | Q(requested_at__lt=now - PENDING_FOR)
    if not rows.filter(free).update(requested_at=now, **seen):
        rows.update(**seen)
        return False
    try:
        queue_flow(channel=channel, flow="orders.download", trigger=SyncRun.Trigger.HOOK)
    except Exception:
        rows.filter(requested_at=now).update(requested_at=None)  # not queued: the next notification may try
        raise
    return True


def download_request_clear(*, channel: Channel) -> None:
    """The download is starting: a notification from now on queues a new run."""
    DownloadRequest.objects.filter(channel=channel, requested_at__isnull=False).update(requested_at=None)
