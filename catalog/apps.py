from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from catalog.flows import FLOWS
        from catalog.issue_targets import register_targets
        from integrations.flows import register

        register(*FLOWS)
        register_targets()  # the listing or item an issue is about, for its admin page

        from catalog.dashboard import register_panels as register_dashboard_panels

        register_dashboard_panels()

        from django.db.models.signals import post_delete

        from catalog.models import MappingImport
        from integrations.import_jobs import job_deleted

        post_delete.connect(job_deleted, sender=MappingImport, dispatch_uid="catalog.mapping_import_file")
