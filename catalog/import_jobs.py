"""Mapping imports from the admin as jobs (MappingImport): the upload is stored server-side, checked (the preview),
and written only when its owner confirms that job. A file larger than IMPORT_BACKGROUND_BYTES is checked and
written by a django-q2 worker (`job_run`), with its progress on the job's page; a smaller one in the request.
Either way the same `mapping_import` runs, as `import_mappings` does, on the stored file.

A job runs each stage once: the stage claims the job with a conditional UPDATE (queued → checking, confirmed →
writing), so a task delivered twice, or a confirmation posted twice, does nothing the second time. The stored
file is deleted as soon as the job cannot go on (refused, written, cancelled, failed, or IMPORT_KEEP_HOURS old)."""

import logging
import uuid
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from catalog.importers import MappingImportResult, mapping_import, visible
from catalog.models import ImportStatus, MappingImport
from catalog.spreadsheets import row_count_estimate, table_read
from integrations.file_limits import FileRefused

logger = logging.getLogger(__name__)

JOB_TASK = "catalog.import_jobs.job_run"
CHECK, WRITE = "check", "write"
# stage: (the status it starts from, the status while it runs)
_STAGES = {
    CHECK: (ImportStatus.QUEUED, ImportStatus.CHECKING),
    WRITE: (ImportStatus.CONFIRMED, ImportStatus.WRITING),
}
CANCELLABLE = (ImportStatus.QUEUED, ImportStatus.READY)
FINAL = (ImportStatus.REJECTED, ImportStatus.DONE, ImportStatus.CANCELLED, ImportStatus.FAILED)


def job_create(*, owner: AbstractBaseUser, upload: UploadedFile, file_format: str) -> MappingImport:
    """Store an upload under a name of our own (never the one sent) as a new job of `owner`."""
    jobs_expire()
    name = visible(Path(upload.name or "").name)[:255]  # shown, never used as a path; no NUL for PostgreSQL
    job = MappingImport(owner=owner, file_name=name, file_format=file_format, size=upload.size or 0)
    job.upload.save(f"{uuid.uuid4().hex}.{file_format}", upload, save=False)
    job.save()
    return job


def job_start(job: MappingImport, stage: str) -> bool:
    """Run a stage now (a small file) or queue it for a worker. True when it was queued."""
    if job.size > settings.IMPORT_BACKGROUND_BYTES:
        name = f"mapping import {job.pk} {stage}"
        transaction.on_commit(lambda: async_task(JOB_TASK, job.pk, stage, task_name=name, group="mapping import"))
        return True
    job_run(job.pk, stage)
    return False


def job_confirm(job: MappingImport) -> bool:
    """The owner's confirmation of a checked job: False when it is not waiting for one (any more)."""
    return bool(
        MappingImport.objects.filter(pk=job.pk, status=ImportStatus.READY).update(
            status=ImportStatus.CONFIRMED, rows_done=0, updated_at=timezone.now()
        )
    )


def job_cancel(job: MappingImport) -> bool:
    """Cancel a job that is not running, and delete its file. False when it is running or over."""
    cancelled = MappingImport.objects.filter(pk=job.pk, status__in=CANCELLABLE).update(
        status=ImportStatus.CANCELLED, updated_at=timezone.now()
    )
    if cancelled:
        _drop_file(job)
    return bool(cancelled)


def job_run(job_id: int, stage: str) -> None:
    """The task: check (a dry run: the preview) or write the job's file. Never raises for a bad file: the job
    says why it was refused, and its file is deleted."""
    start, running = _STAGES[stage]
    claimed = MappingImport.objects.filter(pk=job_id, status=start).update(
        status=running, rows_done=0, updated_at=timezone.now()
    )
    if not claimed:
        return  # cancelled, expired, or run already: each stage runs once
    job = MappingImport.objects.get(pk=job_id)
    try:
        result = _import(job, dry_run=stage == CHECK)
    except FileRefused as exc:
        _finish(job, ImportStatus.REJECTED, message=f"Nothing imported: {exc}.")
        return
    except Exception as exc:
        logger.exception("mapping import %s failed while it ran its %s stage", job_id, stage)
        _finish(job, ImportStatus.FAILED, message=f"Nothing imported: the import failed ({type(exc).__name__}).")
        return
    if result.error_count:
        status = ImportStatus.REJECTED
    else:
        status = ImportStatus.READY if stage == CHECK else ImportStatus.DONE
    _finish(job, status, result=result)


def jobs_expire() -> int:
    """Delete the files of jobs left longer than IMPORT_KEEP_HOURS (a preview never confirmed, a job whose worker
    died) and cancel those jobs. Runs as each new import starts; returns how many files it deleted."""
    cutoff = timezone.now() - timedelta(hours=settings.IMPORT_KEEP_HOURS)
    stale = list(MappingImport.objects.filter(updated_at__lt=cutoff).exclude(upload=""))
    for job in stale:
        if job.status not in FINAL:
            MappingImport.objects.filter(pk=job.pk, status=job.status).update(
                status=ImportStatus.CANCELLED,
                message=f"Left for more than {settings.IMPORT_KEEP_HOURS} hours: cancelled, nothing was imported.",
            )
        _drop_file(job)
    return len(stale)


def job_deleted(sender: type, instance: MappingImport, **kwargs: object) -> None:
    """A deleted job (its owner deleted, say) takes its stored file with it."""
    if instance.upload:
        instance.upload.delete(save=False)


def _import(job: MappingImport, *, dry_run: bool) -> MappingImportResult:
    if not job.upload or not job.upload.storage.exists(job.upload.name):
        raise FileRefused("the uploaded file is no longer here; upload it again")
    path = job.upload.path
    rows = table_read(path)  # checks the file's size, archive and rows before parsing
    header = next(rows, None)
    if not header:
        raise FileRefused("the file is empty")
    MappingImport.objects.filter(pk=job.pk).update(rows_total=row_count_estimate(path))

    def progress(stage: str, rows: int) -> None:
        if stage == CHECK:  # the write stage runs in one transaction: its progress would show only at the end
            MappingImport.objects.filter(pk=job.pk).update(rows_done=F("rows_done") + rows)

    return mapping_import(header=header, rows=rows, dry_run=dry_run, source=job.file_name, on_progress=progress)


def _finish(job: MappingImport, status: str, *, result: MappingImportResult | None = None, message: str = "") -> None:
    values: dict[str, object] = {"status": status, "message": message, "updated_at": timezone.now()}
    if result is not None:
        values.update(
            new=result.new,
            updated=result.updated,
            unchanged=result.unchanged,
            stopping=result.stopping,
            error_count=result.error_count,
            header=list(result.header),
            errors=[{"row": e.row, "message": e.message, "values": list(e.values)} for e in result.errors],
            preview=[asdict(change) for change in result.preview],
        )
    MappingImport.objects.filter(pk=job.pk).update(**values)
    if status != ImportStatus.READY:
        _drop_file(job)


def _drop_file(job: MappingImport) -> None:
    if job.upload:
        job.upload.delete(save=False)  # the file; the row's name is cleared below
        MappingImport.objects.filter(pk=job.pk).update(upload="")
