"""The upload ledger: what a channel last accepted of each uploaded record, as a hash of what was sent, so an
upload sends only the records that changed since (and a second upload with nothing changed sends nothing)."""

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from catalog.models import ChannelUpload, UploadKind
from integrations.models import Channel


def content_hash(value: Any) -> str:
    """A stable hash of a JSON-able value (Decimals and dates as their text)."""
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def uploads_changed(*, channel: Channel, kind: UploadKind, hashes: Mapping[str, str]) -> dict[str, bool]:
    """The keys whose hash differs from what the channel last accepted, each with whether it was ever accepted."""
    stored = dict(
        ChannelUpload.objects.filter(channel=channel, kind=kind, key__in=list(hashes)).values_list(
            "key", "content_hash"
        )
    )
    return {key: key in stored for key, value in hashes.items() if stored.get(key) != value}


def uploads_accepted(*, channel: Channel, kind: UploadKind, accepted: Mapping[str, tuple[str, str]]) -> None:
    """Record what the channel accepted: key -> (hash of what was sent, the channel's id for it)."""
    now = timezone.now()
    ChannelUpload.objects.bulk_create(
        [
            ChannelUpload(channel=channel, kind=kind, key=key, content_hash=value, channel_ref=ref, accepted_at=now)
            for key, (value, ref) in accepted.items()
        ],
        update_conflicts=True,
        unique_fields=["channel", "kind", "key"],
        update_fields=["content_hash", "channel_ref", "accepted_at"],
    )
