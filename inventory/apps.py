from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Inventory"

    def ready(self) -> None:
        from integrations.flows import register
        from inventory.flows import FLOWS

        register(*FLOWS)

        from inventory.dashboard import register_panels as register_dashboard_panels

        register_dashboard_panels()

        from django.db.models.signals import post_delete

        from integrations.import_jobs import job_deleted
        from inventory.models import InventoryImport

        post_delete.connect(job_deleted, sender=InventoryImport, dispatch_uid="inventory.inventory_import_file")
