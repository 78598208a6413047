"""Stock-level and incoming-supply imports from the admin as jobs (InventoryImport), run by the import job
machinery every spreadsheet import of the admin shares (integrations/import_jobs.py): a file larger than
IMPORT_BACKGROUND_BYTES is checked, and written once its owner confirms it, by a django-q2 worker.

The file is read as a stream (catalog.import_jobs.job_table: the file limits first) and imported a chunk of
CHUNK_ROWS rows at a time through the resource (inventory/resources.py), so memory stays flat in the number of
rows: a chunk's rows, the first ERRORS_KEPT bad rows and the first PREVIEW_ROWS changes are all it keeps, and the
keys already seen (to refuse a key twice in one file) are kept on disk. The write runs in one transaction: a bad
row anywhere rolls the whole file back."""

import contextlib
from collections.abc import Callable, Iterable, Iterator

import tablib
from django.db import transaction
from import_export.results import Result, RowResult

from catalog.import_jobs import job_table
from catalog.import_scratch import Scratch
from integrations import import_jobs
from integrations.file_limits import FileRefused
from integrations.import_jobs import JobKind, JobOutcome, visible
from integrations.models import ImportJob
from inventory.models import InventoryImport, InventoryImportKind
from inventory.resources import IncomingSupplyResource, PrefetchedResource, StockLevelResource

JOB_TASK = "inventory.import_jobs.job_run"
CHUNK_ROWS = 2000
ERRORS_KEPT = 1000  # the first bad rows are kept to show; the rest are counted
PREVIEW_ROWS = 100
RESOURCES: dict[str, type[PrefetchedResource]] = {
    InventoryImportKind.STOCK: StockLevelResource,
    InventoryImportKind.SUPPLY: IncomingSupplyResource,
}


def sheet_import(
    *,
    resource: PrefetchedResource,
    header: list[str],
    rows: Iterable[list[str]],
    dry_run: bool,
    on_progress: Callable[[int], None] = lambda rows: None,
) -> JobOutcome:
    """Import a file's rows (after its header) through `resource`, a chunk at a time: every bad row counted (the
    first ERRORS_KEPT listed with their spreadsheet row and reason), and nothing written unless every row is good.
    Progress is reported while checking (dry_run); a write is one transaction, whose progress nobody would see."""
    try:
        resource.header_check(header)
    except ValueError as exc:
        raise FileRefused(str(exc)) from exc
    outcome = JobOutcome(header=[visible(column) for column in header])
    scratch = Scratch()
    resource.first_row = lambda key, row: scratch.first_rows([(key, row)])[key]
    try:
        with contextlib.nullcontext() if dry_run else transaction.atomic():
            for offset, chunk in _chunks(rows, len(header)):
                resource.row_offset = offset
                dataset = tablib.Dataset(*chunk, headers=header)
                result = resource.import_data(dataset, dry_run=dry_run or bool(outcome.error_count))
                _collect(outcome, result, chunk, offset)
                if dry_run:
                    on_progress(len(chunk))
            if outcome.error_count and not dry_run:
                transaction.set_rollback(True)  # the chunks written before the first bad row
    finally:
        scratch.close()
    return outcome


def _chunks(rows: Iterable[list[str]], width: int) -> Iterator[tuple[int, list[tuple[str, ...]]]]:
    """(the file's data rows before the chunk, the chunk's rows padded or cut to the header's width)."""
    offset, chunk = 0, []
    for row in rows:
        chunk.append(tuple((row + [""] * width)[:width]))
        if len(chunk) == CHUNK_ROWS:
            yield offset, chunk
            offset, chunk = offset + len(chunk), []
    if chunk:
        yield offset, chunk


def _collect(outcome: JobOutcome, result: Result, chunk: list[tuple[str, ...]], offset: int) -> None:
    if result.base_errors:  # not a row's problem (those are invalid rows): the database refused a batch
        raise RuntimeError(f"the import stopped: {result.base_errors[0].error!r}") from result.base_errors[0].error
    for invalid in result.invalid_rows:
        outcome.error_count += 1
        if len(outcome.errors) < ERRORS_KEPT:
            problems = [f"{column}: {m}" for column, ms in invalid.field_specific_errors.items() for m in ms]
            message = "; ".join(problems + list(invalid.non_field_specific_errors))
            values = [visible(str(value or "")) for value in chunk[invalid.number - 1]]
            outcome.errors.append({"row": offset + invalid.number + 1, "message": message, "values": values})
    for row in result.rows:
        _count(outcome, row, chunk, offset)


def _count(outcome: JobOutcome, row: RowResult, chunk: list[tuple[str, ...]], offset: int) -> None:
    kind = row.import_type
    if kind == RowResult.IMPORT_TYPE_SKIP and not getattr(row, "blank", False):
        outcome.unchanged += 1
    elif kind in (RowResult.IMPORT_TYPE_NEW, RowResult.IMPORT_TYPE_UPDATE):
        if kind == RowResult.IMPORT_TYPE_NEW:
            outcome.new += 1
        else:
            outcome.updated += 1
        if len(outcome.preview) < PREVIEW_ROWS:
            number = row.row_number  # set by the resource
            values = [visible(value) for value in chunk[number - 1]]
            outcome.preview.append({"row": offset + number + 1, "kind": kind, "values": values})


def _import(job: ImportJob, dry_run: bool, progress: Callable[[int], None]) -> JobOutcome:
    header, rows = job_table(job)
    resource = RESOURCES[job.kind]()  # type: ignore[attr-defined]  # an InventoryImport
    return sheet_import(resource=resource, header=header, rows=rows, dry_run=dry_run, on_progress=progress)


INVENTORY = JobKind(model=InventoryImport, task=JOB_TASK, group="inventory import", importer=_import)


def job_run(job_id: int, stage: str) -> None:
    """The django-q2 task: check or write an inventory import job's file."""
    import_jobs.job_run(INVENTORY, job_id, stage)
