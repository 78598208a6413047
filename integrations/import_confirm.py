"""The spreadsheet import's confirmation step reads only the file its own preview wrote.

django-import-export hands the preview's temporary file name to the browser in a hidden input and, on
confirmation, reads and then deletes whatever file of the temporary directory the POST names: another upload's
file, or any file there. Here the name goes out signed (for this user, this model, a day at most), a confirmation
with any other name is refused without touching a file, and a preview that found errors deletes its file at once
instead of leaving it behind.
"""

import contextlib
from typing import Any

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

MAX_AGE = 24 * 60 * 60  # seconds a preview may wait for its confirmation
EXPIRED = "This import cannot be confirmed (its preview expired, was already imported, or was not made here): upload the file again."


class ConfirmOwnPreview:
    """For an ImportMixin admin: sign the preview's file name, and confirm only a name this user's preview signed."""

    def _signer(self, request: HttpRequest) -> signing.TimestampSigner:
        opts = self.model._meta  # type: ignore[attr-defined]  # a ModelAdmin mixin
        return signing.TimestampSigner(salt=f"switchyard.import:{opts.label}:{request.user.pk}")

    def get_confirm_form_initial(self, request: HttpRequest, import_form: Any) -> dict[str, Any]:
        initial = super().get_confirm_form_initial(request, import_form)  # type: ignore[misc]
        if initial.get("import_file_name"):
            initial["import_file_name"] = self._signer(request).sign(initial["import_file_name"])
        return initial

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        response = super().import_action(request, **kwargs)  # type: ignore[misc]
        context = getattr(response, "context_data", None) or {}
        form = context.get("form")
        upload = getattr(form, "cleaned_data", {}).get("import_file") if form is not None else None
        name = getattr(upload, "tmp_storage_name", None)
        if name and not context.get("confirm_form"):
            self._remove(name)  # a preview with errors is never confirmed: its file goes now
        return response

    def process_import(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return super().process_import(request, **kwargs)  # type: ignore[misc]  # the library's 405
        if not self.has_import_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        try:
            name = self._signer(request).unsign(request.POST.get("import_file_name", ""), max_age=MAX_AGE)
        except signing.BadSignature:
            return self._refused(request)
        post = request.POST.copy()
        post["import_file_name"] = name
        request.POST = post  # type: ignore[assignment]  # what the library's confirm form reads
        try:
            return super().process_import(request, **kwargs)  # type: ignore[misc]
        except FileNotFoundError:  # confirmed twice: the first confirmation consumed the file
            return self._refused(request)

    def _remove(self, name: str) -> None:
        storage = self.get_tmp_storage_class()(name=name, **self.get_tmp_storage_class_kwargs())  # type: ignore[attr-defined]
        with contextlib.suppress(FileNotFoundError):
            storage.remove()

    def _refused(self, request: HttpRequest) -> HttpResponse:
        self.message_user(request, EXPIRED, messages.ERROR)  # type: ignore[attr-defined]
        opts = self.model._meta  # type: ignore[attr-defined]
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_import"))
