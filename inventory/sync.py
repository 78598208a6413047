"""The inventory flows' functions (declared in inventory/flows.py), one job each:

- `inventory_download` (fulfillment system): stock and incoming supply since the cursor;
- `warehouses_download` (fulfillment system): its internal warehouses; `channel_warehouses_download` (sales
  channel): the channel's warehouses, for pairing;
- `inventory_upload` (sales channel): compute, diff against the ledger, push what changed through the outbox;
- `inventory_reconcile` (sales channel): the discrepancy report.
"""

from contextlib import closing
from datetime import datetime

from integrations.connectors import connector_for
from integrations.connectors.capabilities import (
    QuantitySink,
    QuantitySource,
    StockSource,
    WarehouseSource,
    capability,
)
from integrations.flows import RunReport
from integrations.models import Channel
from inventory.downloads import channel_warehouses_upsert, stock_download, supply_download, warehouses_upsert
from inventory.policies import policy_for, policy_rules
from inventory.reconcile import inventory_reconcile_run
from inventory.upload import inventory_upload_run


def inventory_download(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """Stock per item and warehouse, and incoming supply, from the fulfillment system since the cursor."""
    with closing(connector_for(channel)) as connector:
        warehouses = capability(connector, WarehouseSource).warehouses_download()
        warehouses_upsert(warehouses, report=RunReport(flow=report.flow), dry_run=dry_run)
        source = capability(connector, StockSource)
        stock_download(channel=channel, connector=source, report=report, since=since, dry_run=dry_run)
        supply_download(channel=channel, connector=source, report=report, since=since, dry_run=dry_run)


def warehouses_download(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """The fulfillment system's warehouses, as internal warehouses."""
    with closing(connector_for(channel)) as connector:
        records = capability(connector, WarehouseSource).warehouses_download()
    report.seen += len(records)
    warehouses_upsert(records, report=report, dry_run=dry_run)


def channel_warehouses_download(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """A sales channel's warehouses, to pair with internal ones."""
    with closing(connector_for(channel)) as connector:
        records = capability(connector, WarehouseSource).warehouses_download()
        complete = connector.warehouses_listed_in_full
    channel_warehouses_upsert(channel=channel, records=records, report=report, dry_run=dry_run, complete=complete)


def inventory_upload(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """Push every mapped listing's quantity that changed since the channel last accepted one."""
    rules = policy_rules(policy_for(channel_id=channel.pk))
    with closing(connector_for(channel)) as connector:
        sink = capability(connector, QuantitySink)
        inventory_upload_run(channel_id=channel.pk, rules=rules, connector=sink, report=report, dry_run=dry_run)


def inventory_reconcile(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """Download the channel's quantities and refresh its discrepancy report."""
    rules = policy_rules(policy_for(channel_id=channel.pk))
    with closing(connector_for(channel)) as connector:
        source = capability(connector, QuantitySource)
        inventory_reconcile_run(channel_id=channel.pk, rules=rules, connector=source, report=report, dry_run=dry_run)
