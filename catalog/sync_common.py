"""What the catalog flows share: the flow names, chunking, where a download starts, dry-run lines."""

from datetime import datetime, timedelta

from integrations.cursors import cursor_position
from integrations.flows import RunReport, parse_position
from integrations.models import Channel, SyncIssue

FLOW = "catalog.download"
UPLOAD_FLOW = "catalog.upload"
# Re-read window behind the cursor: a row stamped while the last run read its page is read again (an
# unchanged row costs a comparison, not a write).
OVERLAP = timedelta(minutes=10)
SAY_LIMIT = 500  # dry-run lines kept for the terminal; counts carry the rest


def read_since(*, channel: Channel, flow: str, since: datetime | None) -> datetime | None:
    """`since` when given, else the cursor minus the overlap window, else None (everything)."""
    if since is not None:
        return since
    position = parse_position(cursor_position(channel=channel, flow=flow))
    return position - OVERLAP if position else None


def open_issue_keys(*, channel: Channel, flow: str) -> set[str]:
    """Record keys with an open issue: only those need `report.succeeded` to resolve them."""
    issues = SyncIssue.objects.filter(channel=channel, flow=flow, status=SyncIssue.Status.OPEN)
    return set(issues.values_list("record_key", flat=True))


def say(report: RunReport, line: str) -> None:
    """A line of what a dry run would do (kept only on dry runs, and only the first SAY_LIMIT)."""
    if report.dry_run and len(report.lines) < SAY_LIMIT:
        report.lines.append(line)
