"""Writes on channels and the issue queue: what the runner, the admin and the commands call."""

import json
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, QuerySet
from django.utils import timezone

from integrations.chunks import batched
from integrations.connectors import connector_for
from integrations.flows import IssueReport
from integrations.models import Channel, SyncIssue, SyncRun
from integrations.queue import queue_flow
from integrations.redaction import redact_text, redact_values

# Keys per statement: well under SQLite's bound-parameter limit.
CHUNK = 500


def channel_test_connection(*, channel: Channel) -> str:
    """One cheap authenticated call to the channel; what answered, or a ChannelError with the reason."""
    connector = connector_for(channel)
    try:
        return connector.test_connection()
    finally:
        connector.close()


def runs_forget(*, channel: Channel, flow: str, limit: int = 5000) -> int:
    """Delete the flow's runs older than SYNC_RUN_RETENTION_DAYS (at most `limit` per call, so a first prune of a
    large table is spread over several runs); the latest success stays, so "last success" never goes blank."""
    cutoff = timezone.now() - timedelta(days=settings.SYNC_RUN_RETENTION_DAYS)
    runs = SyncRun.objects.filter(channel=channel, flow=flow)
    keep = runs.filter(status__in=(SyncRun.Status.OK, SyncRun.Status.PARTIAL)).order_by("-started_at")[:1]
    old = runs.filter(started_at__lt=cutoff).exclude(status=SyncRun.Status.RUNNING).exclude(pk__in=keep)
    ids = list(old.order_by("started_at").values_list("pk", flat=True)[:limit])
    if not ids:
        return 0
    # The issues keep their text; only their link to the run goes (last_run is SET_NULL).
    SyncIssue.objects.filter(last_run_id__in=ids).update(last_run=None)
    return SyncRun.objects.filter(pk__in=ids).delete()[0]


def issues_record(*, run: SyncRun, issues: Iterable[IssueReport], succeeded: Iterable[str]) -> None:
    """Upsert the open issue of every failed record and resolve the open issues of records that now succeeded.

    `occurrences` counts the runs in which the record failed; the last report of a key in a run wins.
    """
    latest = {issue.record_key[:200]: issue for issue in issues}
    _resolve_keys(run, sorted(set(succeeded) - set(latest)))
    for keys in batched(sorted(latest), CHUNK):
        _upsert_open(run, {key: latest[key] for key in keys})


def issues_resolve(*, issues: QuerySet[SyncIssue], note: str = "") -> int:
    """Mark open issues resolved by hand, with the person's note on what was done; the number resolved."""
    now = timezone.now()
    return issues.filter(status=SyncIssue.Status.OPEN).update(
        status=SyncIssue.Status.RESOLVED, resolved_at=now, updated_at=now, resolution_note=note.strip()
    )


def issues_retry(*, issues: QuerySet[SyncIssue]) -> int:
    """Queue one run of each (channel, flow) the issues belong to; the number of runs queued.

    The issues stay open until a run processes their record successfully, which resolves them.
    """
    pairs = issues.order_by().values_list("channel_id", "flow").distinct()
    channels = Channel.objects.in_bulk({channel_id for channel_id, _ in pairs})
    for channel_id, flow in pairs:
        queue_flow(channel=channels[channel_id], flow=flow, trigger=SyncRun.Trigger.MANUAL)
    return len(pairs)


def _open_issues(run: SyncRun) -> QuerySet[SyncIssue]:
    return SyncIssue.objects.filter(channel_id=run.channel_id, flow=run.flow, status=SyncIssue.Status.OPEN)


def _resolve_keys(run: SyncRun, keys: list[str]) -> None:
    now = timezone.now()
    for chunk in batched(keys, CHUNK):
        _open_issues(run).filter(record_key__in=chunk).update(
            status=SyncIssue.Status.RESOLVED, resolved_at=now, updated_at=now, last_run=run
        )


def _upsert_open(run: SyncRun, reports: dict[str, IssueReport]) -> None:
    now = timezone.now()
    existing = list(_open_issues(run).filter(record_key__in=list(reports)).only("pk", "record_key"))
    for issue in existing:
        report = reports[issue.record_key]
        issue.message, issue.payload = redact_text(report.message), _jsonable(report.payload)
        issue.occurrences, issue.last_run, issue.updated_at = F("occurrences") + 1, run, now
    SyncIssue.objects.bulk_update(existing, ["message", "payload", "occurrences", "last_run", "updated_at"])
    known = {issue.record_key for issue in existing}
    new = [
        SyncIssue(
            channel_id=run.channel_id,
            flow=run.flow,
            record_key=key,
            message=redact_text(report.message),
            payload=_jsonable(report.payload),
            last_run=run,
        )
        for key, report in reports.items()
        if key not in known
    ]
    # Only the run holding the (channel, flow) guard writes these issues, so a conflict cannot come from
    # another run; ignore_conflicts keeps a surprise from failing the run after its work is committed.
    SyncIssue.objects.bulk_create(new, ignore_conflicts=True)


def _jsonable(payload: Any) -> Any:
    """Payloads carry Decimals and datetimes; store them as the strings an operator would read, and never a
    secret an upstream echoed into a record."""
    return redact_values(json.loads(json.dumps(payload, default=str)))
