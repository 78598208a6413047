"""Reads the flows share: what the issue queue holds for a flow."""

from integrations.models import SyncIssue


def open_issue_keys(*, channel_id: int, flow: str) -> set[str]:
    """Record keys with an open issue: only those need `report.succeeded` to resolve them (a run that succeeds
    on 300,000 rows should not send 300,000 keys to the issue queue)."""
    issues = SyncIssue.objects.filter(channel_id=channel_id, flow=flow, status=SyncIssue.Status.OPEN)
    return set(issues.values_list("record_key", flat=True))
