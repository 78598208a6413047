"""Mapping imports from the admin as jobs (MappingImport), run by the import job machinery every spreadsheet
import of the admin shares (integrations/import_jobs.py: storage, stages claimed once, background above
IMPORT_BACKGROUND_BYTES, file cleanup). What is the mapping import's own: `mapping_import`, the service
`import_mappings` runs too, read from the stored file with the file limits (`job_table`)."""

from collections.abc import Callable, Iterator
from dataclasses import asdict

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile

from catalog.importers import mapping_import
from catalog.models import MappingImport
from catalog.spreadsheets import row_count_estimate, table_read
from integrations import import_jobs
from integrations.file_limits import FileRefused
from integrations.import_jobs import CANCELLABLE, CHECK, WRITE, JobKind, JobOutcome, job_cancel, job_confirm
from integrations.models import ImportJob

__all__ = ["CANCELLABLE", "CHECK", "WRITE", "job_cancel", "job_confirm"]

JOB_TASK = "catalog.import_jobs.job_run"


def job_table(job: ImportJob) -> tuple[list[str], Iterator[list[str]]]:
    """A job's stored file as its header and its rows (streamed), checked against the file limits before it is
    parsed; the job's row total is set for its progress bar."""
    path = job.upload.path
    rows = table_read(path)
    header = next(rows, None)
    if not header:
        raise FileRefused("the file is empty")
    import_jobs.job_rows_total(job, row_count_estimate(path))
    return header, rows


def _import(job: ImportJob, dry_run: bool, progress: Callable[[int], None]) -> JobOutcome:
    header, rows = job_table(job)
    result = mapping_import(
        header=header,
        rows=rows,
        dry_run=dry_run,
        source=job.file_name,
        on_progress=lambda step, count: progress(count) if step == CHECK else None,
    )
    return JobOutcome(
        new=result.new,
        updated=result.updated,
        unchanged=result.unchanged,
        error_count=result.error_count,
        header=list(result.header),
        errors=[{"row": e.row, "message": e.message, "values": list(e.values)} for e in result.errors],
        preview=[asdict(change) for change in result.preview],
        extra={"stopping": result.stopping},
    )


MAPPINGS = JobKind(model=MappingImport, task=JOB_TASK, group="mapping import", importer=_import)


def job_create(*, owner: AbstractBaseUser, upload: UploadedFile, file_format: str) -> ImportJob:
    """Store an upload under a name of our own as a new mapping import job of `owner`."""
    return import_jobs.job_create(MAPPINGS, owner=owner, upload=upload, file_format=file_format)


def job_start(job: ImportJob, stage: str) -> bool:
    """Run a stage now (a small file) or queue it for a worker. True when it was queued."""
    return import_jobs.job_start(MAPPINGS, job, stage)


def job_run(job_id: int, stage: str) -> None:
    """The django-q2 task: check or write a mapping import job's file."""
    import_jobs.job_run(MAPPINGS, job_id, stage)


def jobs_expire() -> int:
    return import_jobs.jobs_expire(MappingImport)
