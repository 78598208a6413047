"""The orders app's flows: what each does, on which role of channel, with which connector capability."""

from integrations.connectors.capabilities import (
    CancellationSource,
    CustomerSink,
    FulfillmentTarget,
    OrderAcknowledger,
    OrderSource,
    ShipmentSink,
    ShipmentSource,
)
from integrations.flows import FULFILLMENT, SALES, Flow
from orders import customers_sync, sync

CATALOG = "catalog.download"  # the catalog app's; named only to run after it (listings map order lines)

FLOWS = (
    Flow(
        customers_sync.FLOW,
        SALES,
        CustomerSink,
        customers_sync.customers_upload_flow,
        interval=60,
        label="Customer upload",
    ),
    Flow(
        sync.DOWNLOAD,
        SALES,
        OrderSource,
        sync.orders_download_flow,
        interval=10,
        after=(CATALOG,),
        label="Order download",
        needs_go_live=True,
    ),
    Flow(
        sync.SUBMIT,
        FULFILLMENT,
        FulfillmentTarget,
        sync.orders_submit_flow,
        interval=5,
        after=(sync.DOWNLOAD,),
        label="Order submission",
    ),
    Flow(
        sync.ACKNOWLEDGE,
        SALES,
        OrderAcknowledger,
        sync.orders_acknowledge_flow,
        interval=10,
        after=(sync.SUBMIT,),
        label="Order acknowledgement",
    ),
    Flow(
        sync.CANCELLATIONS,
        SALES,
        CancellationSource,
        sync.cancellations_download_flow,
        interval=10,
        after=(sync.SUBMIT,),  # a cancellation deletes the order from the fulfillment system once submitted
        label="Cancellation download",
        needs_go_live=True,  # its first run starts at the go-live date too (sync.download_start)
    ),
    Flow(
        sync.SHIPMENTS_DOWNLOAD,
        FULFILLMENT,
        ShipmentSource,
        sync.shipments_download_flow,
        interval=5,
        after=(sync.SUBMIT,),
        label="Shipment download",
    ),
    Flow(
        sync.SHIPMENTS_UPLOAD,
        SALES,
        ShipmentSink,
        sync.shipments_upload_flow,
        interval=5,
        after=(sync.SHIPMENTS_DOWNLOAD,),
        label="Shipment upload",
    ),
)
