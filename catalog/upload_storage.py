"""Where uploaded import files wait between their preview and their confirmation: IMPORT_UPLOAD_DIR, read when
used (not when the model is loaded), never served over HTTP. The web process writes a file there and a django-q2
worker reads it, so on more than one machine the directory must be shared (docs/mapping.md)."""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible


@deconstructible
class UploadStorage(FileSystemStorage):
    @property  # type: ignore[override]
    def base_location(self) -> str:
        return str(settings.IMPORT_UPLOAD_DIR)

    @property  # type: ignore[override]
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    @property  # type: ignore[override]
    def base_url(self) -> None:
        return None  # no URL: an uploaded file is only ever read by the import


upload_storage = UploadStorage()
