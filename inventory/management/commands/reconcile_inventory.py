from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.flows import RunReport
from integrations.models import Channel, SyncRun
from integrations.runner import flow_run, run_summary
from inventory.models import Discrepancy

FLOW = "inventory.reconcile"
SHOWN = 50


class Command(BaseCommand):
    help = "Compare a sales channel's quantities with the hub's, refresh its discrepancy report and print it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--channel", required=True, help="sales channel slug")
        parser.add_argument("--dry-run", action="store_true", help="print the differences; keep the old report")

    def handle(self, *args: str, channel: str, dry_run: bool, **options) -> None:
        target = Channel.objects.filter(slug=channel).first()
        if target is None:
            raise CommandError(f"no channel with slug {channel!r}")
        report = RunReport(flow=FLOW, dry_run=dry_run)
        run = flow_run(channel=target, flow=FLOW, trigger=SyncRun.Trigger.COMMAND, dry_run=dry_run, report=report)
        self.stdout.write(f"{FLOW} on {target.slug}{' (dry run)' if dry_run else ''}: {run_summary(run)}")
        if run.status in (SyncRun.Status.FAILED, SyncRun.Status.SKIPPED):
            raise CommandError(f"{FLOW} on {target.slug} did not run: {run.error}", returncode=1)
        lines = report.lines if dry_run else self._rows(target)
        for line in lines[:SHOWN]:
            self.stdout.write(f"  {line}")
        if len(lines) > SHOWN:
            self.stdout.write(f"  … and {len(lines) - SHOWN} more (the admin's discrepancy report has them all)")

    def _rows(self, channel: Channel) -> list[str]:
        rows = Discrepancy.objects.filter(channel=channel).select_related("mapping", "channel_warehouse")
        return [
            f"{row.mapping.channel_sku}@{row.channel_warehouse.external_id}: hub {row.hub_quantity}, "
            f"channel {'none' if row.channel_quantity is None else row.channel_quantity}, "
            f"last pushed {'never' if row.last_pushed is None else row.last_pushed}"
            for row in rows[: SHOWN + 1]
        ]
