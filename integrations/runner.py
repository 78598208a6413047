"""Runs a flow by name on a channel: the one-run-at-a-time guard, SyncRun bookkeeping and issue capture.

The flow is `func(channel, *, report, since=None, dry_run=False)`; it commits its own work in chunks (and moves
its cursor inside those transactions), counts on `report`, and sends bad records to `report.issue(...)`.
"""

import logging
from datetime import datetime

from django.utils import timezone

from integrations.connectors import connector_class
from integrations.connectors.base import SettingsError
from integrations.cursors import cursor_lock, cursor_position
from integrations.flows import RunReport, get_flow, registered, supported
from integrations.http import AuthFailed, ChannelError, RateLimited, ServerError, TransportError
from integrations.models import CHANNEL_ISSUE_KEY, HEALTH_CHECK_FLOW, Channel, SyncRun, go_live_missing_message
from integrations.redaction import redact_text
from integrations.services import issues_record, runs_forget

log = logging.getLogger("integrations.runner")

BUSY = "another run of this flow on this channel is in progress"
INTERRUPTED = "interrupted: the worker stopped before the run finished (the run died)"
# The note of the run that finds an earlier one left running: it died (its guard is ours now), and this run says so.
LAST_RUN_DIED = "the last run died before it finished (its worker stopped); this run took over"
# Failures of the channel as a whole rather than of one record: each opens the flow's channel-level issue.
CHANNEL_WIDE = (AuthFailed, ServerError, TransportError, RateLimited, SettingsError)
COUNTS = ("seen", "created", "updated", "skipped", "failed", "unknown")


def flow_run(
    *,
    channel: Channel,
    flow: str,
    trigger: str,
    since: datetime | None = None,
    dry_run: bool = False,
    report: RunReport | None = None,
) -> SyncRun:
    """Run one flow on one channel now, one run at a time, and record it as a SyncRun.

    Pass `report` to watch the counts while the flow runs (the `sync` command's progress bar).
    """
    report = report or RunReport(flow=flow, dry_run=dry_run)
    refusal = flow_refusal(channel=channel, flow=flow) or first_run_refusal(channel=channel, flow=flow, since=since)
    if refusal:
        return _skipped(channel, flow, trigger, dry_run, refusal)
    with cursor_lock(channel=channel, flow=flow) as won:
        if not won:
            return _skipped(channel, flow, trigger, dry_run, BUSY)
        run = _start(channel, flow, trigger, dry_run, report)
        error, channel_wide = _call(run, report, since)
        run = _finish(run, report, error, channel_wide)
    if not dry_run:
        _after(run, opened_issues=bool(report.issues))
    return run


def flow_refusal(*, channel: Channel, flow: str) -> str:
    """Why this flow cannot run on this channel now, or "" when it can."""
    if not channel.enabled:
        return f"channel {channel.slug} is disabled"
    if flow not in registered():
        return f"no flow named {flow!r} is installed"
    try:
        flows = supported_flows(channel.kind, role=channel.role)
    except LookupError as exc:
        return str(exc)
    if flow not in flows:
        return f"the {channel.get_kind_display()} connector does not support {flow}"
    return ""


def first_run_refusal(*, channel: Channel, flow: str, since: datetime | None) -> str:
    """Why a flow that starts from the go-live date cannot make its first run here (no date, no cursor), or "".

    The admin and the channel form refuse such a flow without a date outright; a schedule or hook that finds one
    already running (from before the date moved to the channel) keeps going from its cursor, so an upgrade never
    stops a working download, but never starts one that would read everything. `since` is an explicit start.
    """
    if since is not None or not channel.go_live_missing(flow) or cursor_position(channel=channel, flow=flow):
        return ""
    return go_live_missing_message(flow)


def supported_flows(kind: str, *, role: str | None = None) -> tuple[str, ...]:
    """The flows a connector kind can run (on a channel of `role`, by default the connector's own), in dependency
    order: those whose capability its class implements, and the health check."""
    cls = connector_class(kind)
    return supported(cls, role or cls.role)


def failure_reason(exc: BaseException) -> str:
    """One line fit for the admin: a channel or settings error's own text, else the exception's type and message."""
    readable = isinstance(exc, ChannelError | SettingsError)
    text = str(exc) if readable else f"{type(exc).__name__}: {exc}".rstrip(": ")
    return redact_text(" ".join(text.split()))[:500]


def _skipped(channel: Channel, flow: str, trigger: str, dry_run: bool, reason: str) -> SyncRun:
    log.info("%s on %s skipped: %s", flow, channel.slug, reason)
    run = SyncRun.objects.create(
        channel=channel, flow=flow, trigger=trigger, dry_run=dry_run, status=SyncRun.Status.SKIPPED, error=reason
    )
    # started_at is stamped as the row is saved; finishing at the same instant keeps the duration at zero.
    run.finished_at = run.started_at
    run.save(update_fields=["finished_at"])
    return run


def _start(channel: Channel, flow: str, trigger: str, dry_run: bool, report: RunReport) -> SyncRun:
    # We hold the guard, so any run of this flow still marked running died with its worker.
    died = SyncRun.objects.filter(channel=channel, flow=flow, status=SyncRun.Status.RUNNING).update(
        status=SyncRun.Status.FAILED, finished_at=timezone.now(), error=INTERRUPTED
    )
    if died:
        report.note(LAST_RUN_DIED)
    return SyncRun.objects.create(channel=channel, flow=flow, trigger=trigger, dry_run=dry_run)


def _call(run: SyncRun, report: RunReport, since: datetime | None) -> tuple[str, bool]:
    """Call the flow; (the failure reason or "" when it returned, whether the channel as a whole failed)."""
    try:
        get_flow(run.flow, run.channel.role).func(run.channel, report=report, since=since, dry_run=run.dry_run)
    except (ChannelError, SettingsError) as exc:
        log.warning("%s on %s failed: %s", run.flow, run.channel.slug, exc)
        return failure_reason(exc), isinstance(exc, CHANNEL_WIDE)
    except Exception as exc:
        # The traceback goes to the log (through the redaction filter); the run keeps a one-line reason.
        log.exception("%s on %s crashed", run.flow, run.channel.slug)
        return failure_reason(exc), False
    return "", False


def _finish(run: SyncRun, report: RunReport, error: str, channel_wide: bool = False) -> SyncRun:
    if channel_wide:
        report.flag(CHANNEL_ISSUE_KEY, f"{run.flow} could not work with the channel: {error}")
    elif not error:
        report.succeeded(CHANNEL_ISSUE_KEY)  # the channel answered: its channel-level issue, if any, closes
    if not run.dry_run:
        issues_record(run=run, issues=report.issues, succeeded=report.succeeded_keys)
    run.status = run_status(report=report, error=error)
    for name in COUNTS:
        setattr(run, name, getattr(report, name))
    run.note = "; ".join(report.notes)
    run.error, run.finished_at = error, timezone.now()
    run.save(update_fields=["status", *COUNTS, "note", "error", "finished_at"])
    log.info("%s on %s: %s", run.flow, run.channel.slug, run_summary(run))
    return run


def _after(run: SyncRun, *, opened_issues: bool) -> None:
    """Housekeeping once the run is recorded and the guard released: prune old runs of this flow (as the inventory
    upload prunes its push intents), and check the channel's alerts when there may be news. The health check
    always checks: that is what notices a flow gone stale."""
    from integrations.alerts import alerts_send  # imported here: alerts reads flow health, which imports the runner

    try:
        runs_forget(channel=run.channel, flow=run.flow)
        if run.status == SyncRun.Status.FAILED or opened_issues or run.flow == HEALTH_CHECK_FLOW:
            alerts_send(channel=run.channel)
    except Exception:
        # Neither may fail the run, which is already recorded; the next run tries again.
        log.exception("housekeeping after %s on %s failed", run.flow, run.channel.slug)


def run_status(*, report: RunReport, error: str) -> str:
    """A run's status from its report: failed with an error; partial when a record failed, opened an issue or was
    left of unknown outcome; ok only when every record went through."""
    if error:
        return SyncRun.Status.FAILED
    if report.failed or report.issues or report.unknown:
        return SyncRun.Status.PARTIAL
    return SyncRun.Status.OK


def run_summary(run: SyncRun) -> str:
    """`ok in 1.2s: seen 10, created 4, updated 5, skipped 1, failed 0`, plus unknown when any, the note and the
    reason when there are."""
    took = f" in {run.duration:.1f}s" if run.duration is not None else ""
    counts = ", ".join(f"{name} {getattr(run, name)}" for name in COUNTS if name != "unknown" or run.unknown)
    note = f" ({run.note})" if run.note else ""
    reason = f" — {run.error}" if run.error else ""
    return f"{run.status}{took}: {counts}{note}{reason}"
