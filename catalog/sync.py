"""The catalog flows, registered with the runner in CatalogConfig.ready():

- `catalog.download` on the fulfillment system: items and bundle components since the cursor (items_download.py);
- `catalog.download` on a sales channel that lists products (ChannelAdvisor, Extensiv): listings into the mapping
  table, auto-mapped in the same run (listings_download.py);
- `catalog.upload` on NuORDER: products by style and colour, only those changed since NuORDER accepted them
  (product_upload.py).

`customers.upload` lives in orders/customers_sync.py: customers are the orders app's, and catalog imports no orders.
"""

from contextlib import closing
from datetime import datetime

from catalog.items_download import items_download
from catalog.listings_download import listings_download
from catalog.product_upload import products_upload
from catalog.sync_common import FLOW, UPLOAD_FLOW, open_issue_keys, read_since
from integrations import flows
from integrations.connectors import connector_for
from integrations.flows import RunReport
from integrations.models import Channel, ChannelRole


def catalog_download(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """Items from the fulfillment system, or a sales channel's listings, changed since the cursor."""
    start = read_since(channel=channel, flow=FLOW, since=since)
    open_keys = open_issue_keys(channel=channel, flow=FLOW)
    with closing(connector_for(channel)) as connector:
        if channel.role == ChannelRole.FULFILLMENT:
            records = connector.items_download(since=start)
            items_download(channel=channel, records=records, report=report, dry_run=dry_run, open_keys=open_keys)
        else:
            listings_download(
                channel=channel,
                records=connector.listings_download(since=start),
                lookup=getattr(connector, "product_ids_for_sku", None),
                report=report,
                dry_run=dry_run,
                open_keys=open_keys,
            )


def catalog_upload(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """Products that changed since the channel last accepted them (NuORDER)."""
    with closing(connector_for(channel)) as connector:
        products_upload(channel=channel, connector=connector, report=report, dry_run=dry_run)


def register_flows() -> None:
    flows.register(FLOW, catalog_download)
    flows.register(UPLOAD_FLOW, catalog_upload)
