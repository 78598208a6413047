"""The catalog flows' functions (declared in catalog/flows.py), one job each:

- `catalog_items_download`, on the fulfillment system: items and bundle components since the cursor
  (items_download.py);
- `catalog_listings_download`, on a sales channel that lists products (ChannelAdvisor, Extensiv): listings into
  the mapping table, auto-mapped in the same run (listings_download.py);
- `catalog_upload` on NuORDER: products by style and colour, only those changed since NuORDER accepted them
  (product_upload.py).

`customers.upload` lives in orders/customers_sync.py: customers are the orders app's, and catalog imports no orders.
"""

from contextlib import closing
from datetime import datetime

from catalog.items_download import items_download
from catalog.listings_download import listings_download
from catalog.product_upload import products_upload
from catalog.sync_common import FLOW, read_since
from integrations.connectors import connector_for
from integrations.connectors.capabilities import ItemSource, ListingSource, ProductSink, capability
from integrations.flows import RunReport
from integrations.models import Channel
from integrations.selectors import open_issue_keys


def catalog_items_download(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """Items from the fulfillment system changed since the cursor."""
    start = read_since(channel=channel, flow=FLOW, since=since)
    open_keys = open_issue_keys(channel_id=channel.pk, flow=FLOW)
    with closing(connector_for(channel)) as connector:
        records = capability(connector, ItemSource).items_download(since=start)
        items_download(channel=channel, records=records, report=report, dry_run=dry_run, open_keys=open_keys)


def catalog_listings_download(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """A sales channel's listings changed since the cursor, into the mapping table."""
    start = read_since(channel=channel, flow=FLOW, since=since)
    open_keys = open_issue_keys(channel_id=channel.pk, flow=FLOW)
    with closing(connector_for(channel)) as connector:
        source = capability(connector, ListingSource)
        listings_download(
            channel=channel,
            records=source.listings_download(since=start),
            lookup=source.product_ids_for_sku,
            report=report,
            dry_run=dry_run,
            open_keys=open_keys,
        )


def catalog_upload(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """Products that changed since the channel last accepted them (NuORDER)."""
    with closing(connector_for(channel)) as connector:
        products_upload(channel=channel, connector=capability(connector, ProductSink), report=report, dry_run=dry_run)
