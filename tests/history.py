"""What a run's record must say: checked on every run of the suite (tests/conftest.py) and in the fault matrix."""

from integrations.models import CHANNEL_ISSUE_KEY, SyncIssue, SyncRun


def unqueued_failures(run: SyncRun) -> str:
    """Why this run's failed records are not all in the issue queue, or "" when they are: each failed record
    has an open issue of this run, or the flow's channel-level issue is open. A dry run records no issues."""
    if not run.failed or run.dry_run:
        return ""
    issues = SyncIssue.objects.filter(channel_id=run.channel_id, flow=run.flow, status=SyncIssue.Status.OPEN)
    mine = issues.filter(last_run_id=run.pk).count()
    if mine >= run.failed or issues.filter(record_key=CHANNEL_ISSUE_KEY).exists():
        return ""
    return f"{run.flow} on {run.channel}: {run.failed} failed, {mine} open issue(s)"
