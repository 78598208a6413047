"""The inventory app's flows: what each does, on which role of channel, with which connector capability.

`inventory.download` is the fulfillment system's stock; a sales channel's quantities are read by
`inventory.reconcile` (migration 0002_reconcile_flow moved ChannelAdvisor's old `inventory.download` there).
"""

from integrations.connectors.capabilities import QuantitySink, QuantitySource, StockSource, WarehouseSource
from integrations.flows import FULFILLMENT, SALES, Flow
from inventory.sync import (
    channel_warehouses_download,
    inventory_download,
    inventory_reconcile,
    inventory_upload,
    warehouses_download,
)

WAREHOUSES = "warehouses.download"
DOWNLOAD = "inventory.download"
UPLOAD = "inventory.upload"
RECONCILE = "inventory.reconcile"
# Named only to run after them: stock read after the shipments that moved it, pushed after the orders that hold it.
CATALOG, SHIPMENTS, SUBMIT = "catalog.download", "shipments.download", "orders.submit"

FLOWS = (
    Flow(WAREHOUSES, FULFILLMENT, WarehouseSource, warehouses_download, interval=1440, label="Warehouse download"),
    Flow(WAREHOUSES, SALES, WarehouseSource, channel_warehouses_download, interval=1440, label="Warehouse download"),
    Flow(
        DOWNLOAD,
        FULFILLMENT,
        StockSource,
        inventory_download,
        interval=30,
        after=(WAREHOUSES, CATALOG, SHIPMENTS),
        label="Inventory download",
    ),
    Flow(
        UPLOAD, SALES, QuantitySink, inventory_upload, interval=60, after=(DOWNLOAD, SUBMIT), label="Inventory upload"
    ),
    Flow(
        RECONCILE,
        SALES,
        QuantitySource,
        inventory_reconcile,
        interval=1440,
        after=(UPLOAD,),
        label="Inventory reconciliation",
    ),
)
