"""The inventory flows, registered with the runner in InventoryConfig.ready():

- `inventory.download` (fulfillment channel): stock and incoming supply since the cursor (on a sales channel,
  the reconciliation);
- `warehouses.download`: a sales channel's warehouses for pairing (internal warehouses on a fulfillment channel);
- `inventory.upload` (sales channel): compute, diff against the ledger, push what changed through the outbox;
- `inventory.reconcile` (sales channel): the discrepancy report.
"""

from contextlib import closing
from datetime import datetime

from integrations import flows
from integrations.connectors import connector_for
from integrations.flows import RunReport
from integrations.models import Channel, ChannelRole
from inventory.downloads import channel_warehouses_upsert, stock_download, supply_download, warehouses_upsert
from inventory.policies import policy_for, policy_rules
from inventory.reconcile import inventory_reconcile_run
from inventory.upload import inventory_upload_run


def inventory_download(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """Stock per item and warehouse, and incoming supply, from the fulfillment system since the cursor.

    On a sales channel (ChannelAdvisor lists inventory.download "for reconciliation") it is the reconciliation.
    """
    if channel.role == ChannelRole.SALES:
        return inventory_reconcile(channel, report=report, since=since, dry_run=dry_run)
    with closing(connector_for(channel)) as connector:
        warehouses_upsert(connector.warehouses_download(), report=RunReport(flow=report.flow), dry_run=dry_run)
        stock_download(channel=channel, connector=connector, report=report, since=since, dry_run=dry_run)
        supply_download(channel=channel, connector=connector, report=report, since=since, dry_run=dry_run)


def warehouses_download(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """The channel's warehouses: channel warehouses to pair (sales), or internal warehouses (fulfillment)."""
    with closing(connector_for(channel)) as connector:
        records = connector.warehouses_download()
    if channel.role == ChannelRole.FULFILLMENT:
        report.seen += len(records)
        warehouses_upsert(records, report=report, dry_run=dry_run)
    else:
        channel_warehouses_upsert(channel=channel, records=records, report=report, dry_run=dry_run)


def inventory_upload(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """Push every mapped listing's quantity that changed since the channel last accepted one."""
    rules = policy_rules(policy_for(channel_id=channel.pk))
    with closing(connector_for(channel)) as connector:
        inventory_upload_run(channel_id=channel.pk, rules=rules, connector=connector, report=report, dry_run=dry_run)


def inventory_reconcile(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """Download the channel's quantities and refresh its discrepancy report."""
    rules = policy_rules(policy_for(channel_id=channel.pk))
    with closing(connector_for(channel)) as connector:
        inventory_reconcile_run(channel_id=channel.pk, rules=rules, connector=connector, report=report, dry_run=dry_run)


def register_flows() -> None:
    flows.register("inventory.download", inventory_download)
    flows.register("warehouses.download", warehouses_download)
    flows.register("inventory.upload", inventory_upload)
    flows.register("inventory.reconcile", inventory_reconcile)
