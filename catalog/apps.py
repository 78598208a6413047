from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from catalog.issue_targets import register_targets
        from catalog.sync import register_flows

        register_flows()
        register_targets()  # the listing or item an issue is about, for its admin page
