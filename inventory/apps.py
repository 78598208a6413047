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
