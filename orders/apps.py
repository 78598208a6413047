from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from integrations.flows import register
        from orders.flows import FLOWS
        from orders.issue_targets import register_targets

        register(*FLOWS)
        register_targets()  # the order or shipment an issue is about, for its admin page

        from orders.dashboard import register_panels as register_dashboard_panels

        register_dashboard_panels()
