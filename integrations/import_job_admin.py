"""The admin's spreadsheet imports as jobs (integrations/import_jobs.py): the upload form, each job's page (its
progress while it runs, then its preview or its bad rows), and the job's confirm and cancel buttons, for any
ModelAdmin that imports (mixed in before ImportExportMixin, whose import URLs it replaces).

Every view needs the import permission (change on the model) and serves only the requesting user's own jobs:
another user's job is a 404. The confirmation names a job, never a file: the file is the one stored with it."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_GET, require_POST

from integrations.import_jobs import (
    CANCELLABLE,
    CHECK,
    WRITE,
    JobKind,
    job_cancel,
    job_confirm,
    job_create,
    job_start,
    jobs_of,
)
from integrations.models import ImportJob, ImportStatus

JOBS_LISTED = 10
REFRESH_SECONDS = 2


class ImportJobViews:
    """A ModelAdmin's import as jobs of `import_job_kind`, each page rendered with `import_job_template`."""

    import_job_kind: JobKind
    import_job_template: str

    def import_job_fields(self) -> dict[str, Any]:
        """The fields that tell this admin's jobs from others of the same model (none unless overridden)."""
        return {}

    def get_urls(self) -> list:
        view = self.admin_site.admin_view  # type: ignore[attr-defined]
        info = self._import_info()
        ours = [
            path("import/", view(self.import_action), name=f"{info}_import"),
            path("import/<int:job_id>/", view(self.import_job_view), name=f"{info}_import_job"),
            path("import/<int:job_id>/confirm/", view(self.import_confirm_view), name=f"{info}_import_confirm"),
            path("import/<int:job_id>/cancel/", view(self.import_cancel_view), name=f"{info}_import_cancel"),
        ]
        replaced = {f"{info}_import", f"{info}_process_import"}  # the library's: its confirm names a temp file
        return ours + [url for url in super().get_urls() if getattr(url, "name", None) not in replaced]  # type: ignore[misc]

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if not self.has_import_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        form = self.create_import_form(request)  # type: ignore[attr-defined]
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["import_file"]
            fmt = form.format_title().lower()
            owner: Any = request.user  # a staff user: the admin views let no one else through
            job = job_create(
                self.import_job_kind, owner=owner, upload=upload, file_format=fmt, **self.import_job_fields()
            )
            job_start(self.import_job_kind, job, CHECK)
            return HttpResponseRedirect(self.import_job_url(job))
        jobs = self._own_jobs(request).order_by("-created_at")[:JOBS_LISTED]
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": "Import",
            "form": form,
            "opts": self.model._meta,  # type: ignore[attr-defined]
            "media": self.media + form.media,  # type: ignore[attr-defined]
            "fields_list": [],
            "jobs": [(job, self.import_job_url(job)) for job in jobs],
        }
        request.current_app = self.admin_site.name  # type: ignore[attr-defined]
        return TemplateResponse(request, [self.import_template_name], context)  # type: ignore[attr-defined]

    @method_decorator(require_GET)
    def import_job_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        job = self.own_job(request, job_id)
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": f"Import of {job.file_name}",
            "opts": self.model._meta,  # type: ignore[attr-defined]
            "job": job,
            "refresh": REFRESH_SECONDS if job.running else None,
            "cancellable": job.status in CANCELLABLE,
            "percent": min(100, round(100 * job.rows_done / job.rows_total)) if job.rows_total else None,
            "upload_url": reverse(f"admin:{self._import_info()}_import"),
            "confirm_url": self.import_job_url(job, "confirm"),
            "cancel_url": self.import_job_url(job, "cancel"),
        }
        request.current_app = self.admin_site.name  # type: ignore[attr-defined]
        return TemplateResponse(request, self.import_job_template, context)

    @method_decorator(require_POST)
    def import_confirm_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        job = self.own_job(request, job_id)
        if not job_confirm(job):
            messages.error(request, f"{job.file_name} cannot be confirmed: it is {_status(job)}.")
            return HttpResponseRedirect(self.import_job_url(job))
        if job_start(self.import_job_kind, job, WRITE):
            return HttpResponseRedirect(self.import_job_url(job))  # a worker writes it; the page follows it
        job.refresh_from_db()
        if job.status != ImportStatus.DONE:  # the file was checked again, and went bad: nothing written
            messages.error(request, f"Nothing imported from {job.file_name}: see why below.")
            return HttpResponseRedirect(self.import_job_url(job))
        messages.success(request, f"Import finished: {job.new} new, {job.updated} updated, {job.unchanged} unchanged.")
        return HttpResponseRedirect(reverse(f"admin:{self._import_info()}_changelist"))

    @method_decorator(require_POST)
    def import_cancel_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        job = self.own_job(request, job_id)
        if job_cancel(job):
            messages.success(request, f"Import of {job.file_name} cancelled: nothing was imported.")
            return HttpResponseRedirect(reverse(f"admin:{self._import_info()}_import"))
        messages.error(request, f"{job.file_name} cannot be cancelled: it is {_status(job)}.")
        return HttpResponseRedirect(self.import_job_url(job))

    def own_job(self, request: HttpRequest, job_id: int) -> ImportJob:
        """The requesting user's job, if they may import: anyone else's is not found."""
        if not self.has_import_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        return get_object_or_404(self._own_jobs(request), pk=job_id)

    def import_job_url(self, job: ImportJob, action: str = "") -> str:
        return reverse(f"admin:{self._import_info()}_import_{action or 'job'}", args=[job.pk])

    def _own_jobs(self, request: HttpRequest) -> Any:
        return jobs_of(self.import_job_kind.model).filter(owner_id=request.user.pk, **self.import_job_fields())

    def _import_info(self) -> str:
        opts = self.model._meta  # type: ignore[attr-defined]
        return f"{opts.app_label}_{opts.model_name}"


def _status(job: ImportJob) -> str:
    job.refresh_from_db(fields=["status"])
    return job.get_status_display().lower()
