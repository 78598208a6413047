from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Inventory"

    def ready(self) -> None:
        from inventory.sync import register_flows

        register_flows()

        from inventory.dashboard import register_panels as register_dashboard_panels

        register_dashboard_panels()
