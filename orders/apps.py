from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from integrations.flows import register
        from orders import customers_sync, sync
        from orders.issue_targets import register_targets

        register_targets()  # the order or shipment an issue is about, for its admin page
        register(sync.DOWNLOAD, sync.orders_download_flow)
        register(sync.SUBMIT, sync.orders_submit_flow)
        register(sync.ACKNOWLEDGE, sync.orders_acknowledge_flow)
        register(sync.CANCELLATIONS, sync.cancellations_download_flow)
        register(sync.SHIPMENTS_DOWNLOAD, sync.shipments_download_flow)
        register(sync.SHIPMENTS_UPLOAD, sync.shipments_upload_flow)
        register(customers_sync.FLOW, customers_sync.customers_upload_flow)
