"""Work that runs outside the flow runner (fan-out chunk tasks, the admin's "push again") is still recorded
as a SyncRun with its issues, so the operator sees it in the same place as every other run."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils import timezone

from integrations.connectors import connector_for
from integrations.flows import RunReport
from integrations.http import ChannelError
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


def chunk_run(*, channel: Channel, flow: str, work: Callable[[Any, RunReport], None]) -> dict:
    """One fan-out chunk task: `work(connector, report)` against the channel's connector (closed after), recorded
    as a scheduled side run of `flow` (a channel error ends it as failed); the plain summary django-q2 keeps."""
    report, started, error = RunReport(flow=flow), timezone.now(), ""
    connector = connector_for(channel)
    try:
        work(connector, report)
    except ChannelError as exc:
        error = str(exc)
    finally:
        connector.close()
    run = side_run_record(
        channel=channel, report=report, trigger=SyncRun.Trigger.SCHEDULE, started_at=started, error=error
    )
    return {"run": run.pk, "status": run.status, **{name: getattr(report, name) for name in COUNTS}, "error": error}
