from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from catalog.flows import FLOWS
        from integrations.flows import register

        register(*FLOWS)

        from catalog.dashboard import register_panels as register_dashboard_panels

        register_dashboard_panels()
