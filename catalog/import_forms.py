"""The mapping import's upload form: the format is taken from the file's extension when none is chosen, and a
file over the size limit is refused before it is read."""

from pathlib import Path

from django import forms
from import_export.forms import ImportForm

from integrations.file_limits import FileRefused, file_size_check


class MappingImportForm(ImportForm):
    def __init__(self, formats, resources, **kwargs) -> None:
        super().__init__(formats, resources, **kwargs)
        self.format_titles = [fmt().get_title().lower() for fmt in formats]
        self.fields["format"].required = False
        self.fields["format"].help_text = "Leave it at --- to take the format from the file's extension."

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        try:
            file_size_check(upload.size)
        except FileRefused as exc:
            raise forms.ValidationError(f"Not imported: {exc}.") from exc
        return upload

    def clean(self) -> dict:
        cleaned = super().clean()
        upload = cleaned.get("import_file")
        if upload is not None and not cleaned.get("format"):
            suffix = Path(upload.name).suffix.lower().lstrip(".")
            if suffix not in self.format_titles:
                expected = " or ".join(f".{title}" for title in self.format_titles)
                self.add_error("format", f"Choose a format: the file's name does not end in {expected}.")
            else:
                cleaned["format"] = str(self.format_titles.index(suffix))
        return cleaned

    def format_title(self) -> str:
        """The format being read, in capitals (CSV, XLSX)."""
        return self.format_titles[int(self.cleaned_data["format"])].upper()
