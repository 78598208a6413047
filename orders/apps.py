from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from integrations.flows import register
        from orders.flows import FLOWS

        register(*FLOWS)
