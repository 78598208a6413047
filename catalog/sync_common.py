"""What the catalog flows share: the flow names, chunking, where a download starts, dry-run lines."""

from datetime import datetime, timedelta

from integrations.cursors import cursor_window_start
from integrations.flows import RunReport
from integrations.models import Channel

FLOW = "catalog.download"
UPLOAD_FLOW = "catalog.upload"
# Re-read window behind the cursor: a row stamped while the last run read its page is read again (an
# unchanged row costs a comparison, not a write).
OVERLAP = timedelta(minutes=10)
SAY_LIMIT = 500  # dry-run lines kept for the terminal; counts carry the rest


def read_since(*, channel: Channel, flow: str, since: datetime | None) -> datetime | None:
    """`since` when given, else the cursor minus the catalog's overlap window, else None (everything)."""
    return cursor_window_start(channel=channel, flow=flow, since=since, overlap=OVERLAP)


def say(report: RunReport, line: str) -> None:
    """A line of what a dry run would do (kept only on dry runs, and only the first SAY_LIMIT)."""
    if report.dry_run and len(report.lines) < SAY_LIMIT:
        report.lines.append(line)
