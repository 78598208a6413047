"""Order notifications from channels that can send them: `POST /hooks/<channel slug>/orders`, signed the way
Stripe signs its webhooks, queues an immediate orders download.

The header is `X-Switchyard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, keyed with the
channel's `hook_secret` credential. A timestamp further than HOOK_TOLERANCE seconds from now is refused (an old
capture cannot be replayed later), and a signature already accepted is refused (nor within the window).

At most one hook-triggered download is pending per channel: the request claims `DownloadRequest.requested_at`
with a conditional UPDATE (the row count says who won, on any database and either django-q2 broker), and the
download clears it when it starts, so a notification arriving during a run queues the next one.
"""

import hashlib
import hmac
import re
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from integrations.models import Channel, SyncRun
from integrations.queue import queue_flow
from orders.models import DownloadRequest, HookNonce

SIGNATURE_HEADER = "X-Switchyard-Signature"
# A claim older than this is taken to be lost (a queued task that never ran) and can be claimed again.
PENDING_FOR = timedelta(minutes=15)
_TIMESTAMP = re.compile(r"\d{1,12}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


@sensitive_variables("secret")
def hook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `<timestamp>.<body>` with the hook secret."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


@sensitive_variables("secret")
def hook_header(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value a sender computes: `t=<unix seconds>,v1=<signature>` (now, unless `timestamp` is given)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={hook_signature(secret=secret, timestamp=timestamp, body=body)}"


@sensitive_variables("secret", "expected", "header")
def hook_refusal(*, channel: Channel, body: bytes, header: str) -> str:
    """Why a notification is refused ("" when it is authentic, fresh and new): for the log, never the sender."""
    parsed = _parse(header)
    if parsed is None:
        return "no readable signature header"
    timestamp, signatures = parsed
    secret = str(channel.credentials.get("hook_secret") or "")
    if not secret:
        return "the channel has no hook secret"
    if abs(time.time() - timestamp) > settings.HOOK_TOLERANCE:
        return "the signed timestamp is outside the tolerance window"
    expected = hook_signature(secret=secret, timestamp=timestamp, body=body)
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        return "the signature does not match"
    if not _first_use(channel, expected):
        return "the signature was already used (a replay)"
    return ""


def _parse(header: str) -> tuple[int, list[str]] | None:
    """`t=…,v1=…[,v1=…]` as (timestamp, signatures); None for anything else, non-ASCII text included."""
    if not header.isascii():
        return None
    pairs = [part.strip().partition("=") for part in header.split(",")]
    stamps = [value for key, _, value in pairs if key == "t" and _TIMESTAMP.fullmatch(value)]
    signatures = [value for key, _, value in pairs if key == "v1" and _SIGNATURE.fullmatch(value)]
    return (int(stamps[0]), signatures) if len(stamps) == 1 and signatures else None


def _first_use(channel: Channel, signature: str) -> bool:
    """Record an accepted signature; False when it was accepted before (the unique constraint decides)."""
    now = timezone.now()
    HookNonce.objects.filter(seen_at__lt=now - timedelta(seconds=2 * settings.HOOK_TOLERANCE)).delete()
    try:
        with transaction.atomic():
            HookNonce.objects.create(channel=channel, signature=signature, seen_at=now)
    except IntegrityError:
        return False
    return True


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
