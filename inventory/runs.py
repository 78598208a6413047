"""Work that runs outside the flow runner (fan-out chunk tasks, the admin's "push again") is still recorded
as a SyncRun with its issues, so the operator sees it in the same place as every other run."""

from datetime import datetime

from django.utils import timezone

from integrations.flows import RunReport
from integrations.models import Channel, SyncRun
from integrations.runner import COUNTS, run_status
from integrations.services import issues_record


def side_run_record(
    *, channel: Channel, report: RunReport, trigger: str, started_at: datetime, error: str = ""
) -> SyncRun:
    """A finished SyncRun for work done outside `flow_run`, with its issues recorded (and old ones resolved)."""
    status = run_status(report=report, error=error)
    run = SyncRun.objects.create(
        channel=channel,
        flow=report.flow,
        trigger=trigger,
        status=status,
        finished_at=timezone.now(),
        **{name: getattr(report, name) for name in COUNTS},
        note="; ".join(report.notes),
        error=error[:500],
    )
    SyncRun.objects.filter(pk=run.pk).update(started_at=started_at)
    issues_record(run=run, issues=report.issues, succeeded=report.succeeded_keys)
    return run
