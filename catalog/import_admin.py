"""The mapping screen's spreadsheet import, as jobs: the admin's shared import job views
(integrations/import_job_admin.py) on mapping import jobs (catalog/import_jobs.py), with the mapping preview's
page (each listing before and after, the changes that stop a mapped listing flagged)."""

from catalog.import_jobs import MAPPINGS
from integrations.import_job_admin import ImportJobViews


class MappingImportViews(ImportJobViews):
    """Mixed into the mapping screen's ModelAdmin (before ImportExportMixin, whose import URLs it replaces)."""

    import_job_kind = MAPPINGS
    import_job_template = "admin/catalog/itemmapping/import_job.html"
