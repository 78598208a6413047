"""The catalog app's flows: what each does, on which role of channel, with which connector capability."""

from catalog.sync import catalog_items_download, catalog_listings_download, catalog_upload
from catalog.sync_common import FLOW, UPLOAD_FLOW
from integrations.connectors.capabilities import ItemSource, ListingSource, ProductSink
from integrations.flows import FULFILLMENT, SALES, Flow

WAREHOUSES = "warehouses.download"  # inventory's; named here only to run after it

FLOWS = (
    Flow(
        FLOW,
        FULFILLMENT,
        ItemSource,
        catalog_items_download,
        interval=60,
        after=(WAREHOUSES,),
        label="Catalog download",
    ),
    Flow(
        FLOW,
        SALES,
        ListingSource,
        catalog_listings_download,
        interval=60,
        after=(WAREHOUSES,),
        label="Catalog download",
    ),
    Flow(UPLOAD_FLOW, SALES, ProductSink, catalog_upload, interval=60, after=(FLOW,), label="Product upload"),
)
