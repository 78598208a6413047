"""`manage.py import_mappings FILE [--channel SLUG] [--dry-run]`: the admin's mapping import, from a terminal."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog.importers import MappingImportResult, mapping_import
from catalog.spreadsheets import file_format, row_count_estimate, table_read
from integrations.file_limits import FileRefused
from integrations.models import Channel

PROGRESS_MIN_ROWS = 10_000
ERRORS_SHOWN = 1000
_STAGES = {"check": "checking rows", "write": "writing mappings"}


class Command(BaseCommand):
    help = (
        "Import listing-to-item mappings from a CSV or XLSX file (columns in docs/mapping.md). The whole file "
        "is checked first; if any row is bad nothing is written, the bad rows are listed and the exit status is 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a .csv or .xlsx file")
        parser.add_argument(
            "--channel",
            metavar="SLUG",
            help="the channel for rows whose channel cell is blank; rows naming another channel are refused",
        )
        parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")

    def handle(self, *args, file: str, channel: str | None, dry_run: bool, **options) -> None:
        path = Path(file)
        try:
            file_format(path)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        fixed_channel = _channel(channel)
        try:
            result = self.run_import(path, fixed_channel, dry_run)
        except FileRefused as exc:  # rows are read while being checked: nothing has been written yet
            raise CommandError(f"{path}: {exc}") from exc
        except OSError as exc:  # not readable by this user, or gone while being read
            raise CommandError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
        shown = result.errors[:ERRORS_SHOWN]
        for error in shown:
            self.stderr.write(f"row {error.row}: {error.message}")
        if result.error_count > len(shown):
            self.stderr.write(f"... and {result.error_count - len(shown)} more bad rows")
        self.stdout.write(f"{path.name}: {result.summary()}")
        if result.error_count:
            raise CommandError(f"{result.error_count} bad rows: nothing was imported")
        self.stdout.write("Dry run: nothing was written." if dry_run else "Imported.")

    def run_import(self, path: Path, channel: Channel | None, dry_run: bool) -> MappingImportResult:
        rows = table_read(path)
        header = next(rows, None)
        if not header:
            raise CommandError(f"{path}: the file is empty")
        progress = _Progress(row_count_estimate(path))
        try:
            return mapping_import(
                header=header, rows=rows, channel=channel, dry_run=dry_run, source=path.name, on_progress=progress
            )
        finally:
            progress.close()


def _channel(slug: str | None) -> Channel | None:
    if not slug:
        return None
    channel = Channel.objects.filter(slug=slug).first()
    if channel is None:
        raise CommandError(f"unknown channel {slug}")
    return channel


class _Progress:
    """tqdm bars on stderr, one per stage, for files big enough to need them."""

    def __init__(self, total_rows: int) -> None:
        self.total_rows = total_rows
        self.bars: dict[str, tqdm] = {}

    def __call__(self, stage: str, rows: int) -> None:
        if self.total_rows < PROGRESS_MIN_ROWS:
            return
        if stage not in self.bars:
            total = self.total_rows if stage == "check" else None
            self.bars[stage] = tqdm(total=total, desc=_STAGES[stage], unit=" rows", file=sys.stderr, mininterval=0.5)
        self.bars[stage].update(rows)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
