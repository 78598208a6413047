"""`manage.py backfill_orders --channel SLUG --since DATE [--until DATE] [--dry-run]`: download a window of
orders with the same upsert as the scheduled download. Safe to run twice and beside the schedule: orders are
upserted on (channel, order id), unchanged ones are not written, and the schedule's cursor is not moved."""

from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from tqdm import tqdm

from integrations.flows import RunReport
from integrations.http import ChannelError
from integrations.models import Channel, ChannelRole
from orders.ingest import CREATE, EXCLUDED, INVALID, UNCHANGED, WRITES, IngestTotals
from orders.sync import DOWNLOAD, orders_download

LINES_SHOWN = 50


class Command(BaseCommand):
    help = "Download a channel's orders placed or changed in a window, upserting them like the scheduled download."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--channel", required=True, metavar="SLUG", help="the sales channel")
        parser.add_argument(
            "--since", required=True, type=date_or_datetime, metavar="DATE", help="YYYY-MM-DD or an ISO date-time"
        )
        parser.add_argument(
            "--until", type=date_or_datetime, metavar="DATE", help="YYYY-MM-DD or an ISO date-time (default: now)"
        )
        parser.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")

    def handle(self, *args, channel: str, since: datetime, until: datetime | None, dry_run: bool, **options) -> None:
        sales = Channel.objects.filter(slug=channel, role=ChannelRole.SALES).first()
        if sales is None:
            raise CommandError(f"no sales channel {channel}")
        if until and until <= since:
            raise CommandError("--until must be after --since")
        report = RunReport(flow=DOWNLOAD, dry_run=dry_run)
        with tqdm(desc=f"{sales.slug} orders", unit=" orders", file=self.stderr, mininterval=0.5) as bar:
            try:
                totals = orders_download(
                    channel=sales, since=since, until=until, report=report, dry_run=dry_run, progress=bar.update
                )
            except ChannelError as exc:
                raise CommandError(
                    f"the download stopped: {exc}. Orders read before it are stored; run it again."
                ) from exc
        self._summary(sales, totals, report)

    def _summary(self, channel: Channel, totals: IngestTotals, report: RunReport) -> None:
        for line in report.lines[:LINES_SHOWN]:
            self.stdout.write(line)
        if len(report.lines) > LINES_SHOWN:
            self.stdout.write(f"... and {len(report.lines) - LINES_SHOWN} more")
        for issue in report.issues:
            self.stderr.write(f"{issue.record_key}: {issue.message}")
        for note in report.notes:  # what the channel left out and why (a backfill that reads 0 says why)
            self.stdout.write(note)
        updated = sum(totals.count(action) for action in WRITES) - totals.count(CREATE)
        verb = "would be " if report.dry_run else ""
        self.stdout.write(
            f"{channel.slug}: {totals.seen} orders read; {verb}created {totals.count(CREATE)}, {verb}updated {updated}, "
            f"unchanged {totals.count(UNCHANGED)}, excluded by the import rules {totals.count(EXCLUDED)}, "
            f"not imported (see above) {totals.count(INVALID)}."
        )
        if report.dry_run:
            self.stdout.write("Dry run: nothing was written.")


def date_or_datetime(value: str) -> datetime:
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise ValueError(f"not a date: {value}")
        moment = datetime.combine(day, time.min)
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
