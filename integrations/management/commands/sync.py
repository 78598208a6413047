import argparse
import threading
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.utils import timezone
from tqdm import tqdm

from integrations.flows import RunReport, registered
from integrations.models import Channel, SyncIssue, SyncRun
from integrations.runner import flow_run, run_summary

SHOWN_ISSUES = 20


class Command(BaseCommand):
    help = "Run one flow on one channel now, in the foreground, and print what it did. Exit 1 if the run failed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--channel", required=True, help="channel slug")
        parser.add_argument("--flow", required=True, help="flow name, e.g. orders.download")
        parser.add_argument("--dry-run", action="store_true", help="show what the flow would do; change nothing")
        parser.add_argument("--since", type=_aware, help="ISO date/time to read from instead of the cursor")

    def handle(self, *args: str, channel: str, flow: str, dry_run: bool, since: datetime | None, **options) -> None:
        target = Channel.objects.filter(slug=channel).first()
        if target is None:
            raise CommandError(f"no channel with slug {channel!r}")
        if flow not in registered():
            raise CommandError(f"no flow named {flow!r}; installed: {', '.join(registered())}")
        report = RunReport(flow=flow, dry_run=dry_run)
        with _progress(report, f"{target.slug} {flow}", self.stderr):
            run = flow_run(
                channel=target, flow=flow, trigger=SyncRun.Trigger.COMMAND, since=since, dry_run=dry_run, report=report
            )
        self._print(run, report)
        if run.status == SyncRun.Status.FAILED:
            raise CommandError(f"{flow} on {target.slug} failed: {run.error}", returncode=1)

    def _print(self, run: SyncRun, report: RunReport) -> None:
        dry = " (dry run)" if run.dry_run else ""
        self.stdout.write(f"{run.flow} on {run.channel.slug}{dry}: {run_summary(run)}")
        for line in report.lines if run.dry_run else ():
            self.stdout.write(f"  {line}")
        for issue in report.issues[:SHOWN_ISSUES]:
            self.stdout.write(f"  ! {issue.record_key}: {issue.message}")
        if len(report.issues) > SHOWN_ISSUES:
            self.stdout.write(f"  … and {len(report.issues) - SHOWN_ISSUES} more issues")
        if report.issues and not run.dry_run:
            open_count = SyncIssue.objects.filter(channel=run.channel, flow=run.flow, status="open").count()
            self.stdout.write(f"  {open_count} open issue(s) in the queue for this flow")


def _aware(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date/time: {value!r}") from None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


class _progress:
    """A tqdm counter of the records the flow has seen, refreshed from the report while the flow runs."""

    def __init__(self, report: RunReport, label: str, stream: OutputWrapper) -> None:
        self.report, self.stop = report, threading.Event()
        self.bar = tqdm(desc=label, unit=" records", file=stream, dynamic_ncols=True)
        self.ticker = threading.Thread(target=self._tick, daemon=True)

    def __enter__(self) -> "_progress":
        self.ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.ticker.join()
        self._refresh()
        self.bar.close()

    def _tick(self) -> None:
        while not self.stop.wait(0.5):
            self._refresh()

    def _refresh(self) -> None:
        report = self.report
        self.bar.update(report.seen - self.bar.n)
        self.bar.set_postfix(created=report.created, updated=report.updated, failed=report.failed, refresh=True)
