"""Spreadsheet imports from the admin as jobs (an ImportJob model per kind of import): the upload is stored
server-side, checked (the preview), and written only when its owner confirms that job. A file larger than
IMPORT_BACKGROUND_BYTES is checked and written by a django-q2 worker (the kind's task), with its progress on the
job's page; a smaller one in the request. Either way the kind's own import runs on the stored file, once as a
dry run and once for real.

A job runs each stage once: the stage claims the job with a conditional UPDATE (queued → checking, confirmed →
writing), so a task delivered twice, or a confirmation posted twice, does nothing the second time. The stored
file is deleted as soon as the job cannot go on (refused, written, cancelled, failed, or IMPORT_KEEP_HOURS old).

A kind of import (catalog/import_jobs.py: mappings; inventory/import_jobs.py: stock levels and incoming supply)
gives its model, the dotted path of its task, and the function that imports a job's file (`JobKind`)."""

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from integrations.file_limits import FileRefused
from integrations.models import ImportJob, ImportStatus

logger = logging.getLogger(__name__)

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CHECK, WRITE = "check", "write"
# stage: (the status it starts from, the status while it runs)
_STAGES = {
    CHECK: (ImportStatus.QUEUED, ImportStatus.CHECKING),
    WRITE: (ImportStatus.CONFIRMED, ImportStatus.WRITING),
}
CANCELLABLE = (ImportStatus.QUEUED, ImportStatus.READY)
FINAL = (ImportStatus.REJECTED, ImportStatus.DONE, ImportStatus.CANCELLED, ImportStatus.FAILED)


@dataclass
class JobOutcome:
    """What a job's import found: the counts, the first bad rows and the first changes, as the job stores them."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    error_count: int = 0
    header: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)  # {"row", "message", "values"}
    preview: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # the kind's own fields (a mapping import's `stopping`)


# (the job, dry_run, progress: called with the number of rows just checked) -> what it found. Raises
# FileRefused for a file it will not read. Progress is reported while the file is checked (at both stages: the
# write stage checks it again), not while it is written: the writes run in one transaction, so their progress
# would show only at the end.
Importer = Callable[[ImportJob, bool, Callable[[int], None]], JobOutcome]


@dataclass(frozen=True)
class JobKind:
    model: type[ImportJob]
    task: str  # the dotted path of the kind's task: f(job_id, stage), which calls job_run(kind, ...)
    group: str  # django-q2's group, and the task's name: "mapping import"
    importer: Importer


def job_create(
    kind: JobKind, /, *, owner: AbstractBaseUser, upload: UploadedFile, file_format: str, **fields: Any
) -> ImportJob:
    """Store an upload under a name of our own (never the one sent) as a new job of `owner`."""
    jobs_expire(kind.model)
    name = visible(Path(upload.name or "").name)[:255]  # shown, never used as a path; no NUL for PostgreSQL
    values: dict[str, Any] = {"owner": owner, "file_name": name, "file_format": file_format, "size": upload.size or 0}
    job = kind.model(**values, **fields)
    job.upload.save(f"{uuid.uuid4().hex}.{file_format}", upload, save=False)
    job.save()
    return job


def job_start(kind: JobKind, job: ImportJob, stage: str) -> bool:
    """Run a stage now (a small file) or queue it for a worker. True when it was queued."""
    if job.size > settings.IMPORT_BACKGROUND_BYTES:
        name = f"{kind.group} {job.pk} {stage}"
        transaction.on_commit(lambda: async_task(kind.task, job.pk, stage, task_name=name, group=kind.group))
        return True
    job_run(kind, job.pk, stage)
    return False


def job_confirm(job: ImportJob) -> bool:
    """The owner's confirmation of a checked job: False when it is not waiting for one (any more)."""
    return bool(
        jobs_of(type(job))
        .filter(pk=job.pk, status=ImportStatus.READY)
        .update(status=ImportStatus.CONFIRMED, rows_done=0, updated_at=timezone.now())
    )


def job_cancel(job: ImportJob) -> bool:
    """Cancel a job that is not running, and delete its file. False when it is running or over."""
    cancelled = (
        jobs_of(type(job))
        .filter(pk=job.pk, status__in=CANCELLABLE)
        .update(status=ImportStatus.CANCELLED, updated_at=timezone.now())
    )
    if cancelled:
        drop_file(job)
    return bool(cancelled)


def job_run(kind: JobKind, job_id: int, stage: str) -> None:
    """The task: check (a dry run: the preview) or write the job's file. Never raises for a bad file: the job
    says why it was refused, and its file is deleted."""
    start, running = _STAGES[stage]
    jobs = jobs_of(kind.model).filter(pk=job_id)
    if not jobs.filter(status=start).update(status=running, rows_done=0, updated_at=timezone.now()):
        return  # cancelled, expired, or run already: each stage runs once
    job = jobs.get()

    def progress(rows: int) -> None:
        jobs.update(rows_done=F("rows_done") + rows)

    try:
        if not job.upload or not job.upload.storage.exists(job.upload.name):
            raise FileRefused("the uploaded file is no longer here; upload it again")
        outcome = kind.importer(job, stage == CHECK, progress)
    except FileRefused as exc:
        _finish(job, ImportStatus.REJECTED, message=f"Nothing imported: {exc}.")
        return
    except Exception as exc:
        logger.exception("%s %s failed while it ran its %s stage", kind.group, job_id, stage)
        _finish(job, ImportStatus.FAILED, message=f"Nothing imported: the import failed ({type(exc).__name__}).")
        return
    if outcome.error_count:
        status = ImportStatus.REJECTED
    else:
        status = ImportStatus.READY if stage == CHECK else ImportStatus.DONE
    _finish(job, status, outcome=outcome)


def jobs_expire(model: type[ImportJob]) -> int:
    """Delete the files of jobs left longer than IMPORT_KEEP_HOURS (a preview never confirmed, a job whose worker
    died) and cancel those jobs. Runs as each new import starts; returns how many files it deleted."""
    cutoff = timezone.now() - timedelta(hours=settings.IMPORT_KEEP_HOURS)
    stale = list(jobs_of(model).filter(updated_at__lt=cutoff).exclude(upload=""))
    for job in stale:
        if job.status not in FINAL:
            jobs_of(model).filter(pk=job.pk, status=job.status).update(
                status=ImportStatus.CANCELLED,
                message=f"Left for more than {settings.IMPORT_KEEP_HOURS} hours: cancelled, nothing was imported.",
            )
        drop_file(job)
    return len(stale)


def job_deleted(sender: type, instance: ImportJob, **kwargs: object) -> None:
    """post_delete: a deleted job (its owner deleted, say) takes its stored file with it."""
    if instance.upload:
        instance.upload.delete(save=False)


def job_rows_total(job: ImportJob, rows: int) -> None:
    """Record how many rows the job's file has (an estimate, for the progress bar)."""
    jobs_of(type(job)).filter(pk=job.pk).update(rows_total=rows)


def jobs_of(model: type[ImportJob]) -> Any:
    """The jobs of a concrete job model (a QuerySet; typed loosely, since an abstract model's fields cannot name the
    concrete model's owner and upload)."""
    return model._default_manager.all()


def drop_file(job: ImportJob) -> None:
    if job.upload:
        job.upload.delete(save=False)  # the file; the row's name is cleared below
        jobs_of(type(job)).filter(pk=job.pk).update(upload="")


def visible(text: str) -> str:
    """Text with its control characters written out (NUL as \\x00), safe to show and to store."""
    return CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


def _finish(job: ImportJob, status: str, *, outcome: JobOutcome | None = None, message: str = "") -> None:
    values: dict[str, object] = {"status": status, "message": message, "updated_at": timezone.now()}
    if outcome is not None:
        values.update(
            new=outcome.new,
            updated=outcome.updated,
            unchanged=outcome.unchanged,
            error_count=outcome.error_count,
            header=list(outcome.header),
            errors=outcome.errors,
            preview=outcome.preview,
            **outcome.extra,
        )
    jobs_of(type(job)).filter(pk=job.pk).update(**values)
    if status != ImportStatus.READY:
        drop_file(job)
