from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from catalog.flows import FLOWS
        from integrations.flows import register

        register(*FLOWS)
