"""The order flows' functions (declared in orders/flows.py): download, submit, acknowledge, cancellations,
and the shipments' download (from the fulfillment system) and upload (to each sales channel).

Each takes the channel and a RunReport, calls its connector, and hands the records to a service; the
services do the writing (orders/ingest.py, holds.py, submission.py, acknowledgement.py, cancellation.py,
shipments.py, shipment_upload.py).
"""

from collections.abc import Callable, Iterable
from contextlib import closing
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from integrations.connectors import connector_for
from integrations.connectors.capabilities import (
    CancellationSource,
    FulfillmentTarget,
    OrderAcknowledger,
    OrderSource,
    ShipmentSink,
    ShipmentSource,
    capability,
)
from integrations.connectors.records import OrderRecord
from integrations.cursors import cursor_advance, cursor_window_start
from integrations.flows import RunReport
from integrations.models import Channel
from orders.acknowledgement import FLOW as ACKNOWLEDGE_FLOW
from orders.acknowledgement import orders_acknowledge
from orders.cancellation import cancellations_mark, cancellations_process
from orders.holds import orders_hold_check
from orders.hooks import download_request_clear
from orders.ingest import IngestTotals, OrderIngest
from orders.models import Order
from orders.shipment_upload import shipments_upload
from orders.shipments import ShipmentIngest
from orders.states import IN_FULFILLMENT
from orders.submission import orders_submit

DOWNLOAD = "orders.download"
SUBMIT = "orders.submit"
ACKNOWLEDGE = ACKNOWLEDGE_FLOW
CANCELLATIONS = "cancellations.download"
SHIPMENTS_DOWNLOAD = "shipments.download"
SHIPMENTS_UPLOAD = "shipments.upload"
# Every download re-reads this much before its cursor, so an order committed on the channel just before
# the last run (or stamped by a clock a little behind ours) is never missed; re-reading it writes nothing.
OVERLAP = timedelta(minutes=15)


def orders_download_flow(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """Download new and changed orders since the cursor (minus the overlap) and upsert them."""
    if not dry_run:
        download_request_clear(channel=channel)  # from now on a notification queues another run
    orders_download(
        channel=channel,
        since=since or download_start(channel=channel, flow=DOWNLOAD),
        report=report,
        dry_run=dry_run,
        move_cursor=since is None,
    )


def orders_download(
    *,
    channel: Channel,
    since: datetime | None,
    until: datetime | None = None,
    report: RunReport,
    dry_run: bool = False,
    move_cursor: bool = False,
    progress: Callable[[int], None] | None = None,
) -> IngestTotals:
    """Download a window of orders and upsert them; the scheduled flow also moves its cursor, a backfill does not."""
    with closing(connector_for(channel)) as connector:
        source = capability(connector, OrderSource)
        records = source.orders_download(since=since, until=until)
        totals = OrderIngest(channel=channel, report=report, dry_run=dry_run).run(records, progress=progress)
        for line in source.orders_skipped():  # so a run that reads 0 orders says why
            report.note(line)
    if move_cursor and not dry_run and totals.last_updated_at:
        with transaction.atomic():
            cursor_advance(channel=channel, flow=DOWNLOAD, position=totals.last_updated_at)
    if not dry_run:
        _cancel_pending(channel, report)
    return totals


def orders_submit_flow(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """Run on a fulfillment system (its connector submits): for each sales channel it serves, hold or release
    the downloaded orders, then submit the ready ones. Issues are keyed `<sales channel slug>/<order id>`."""
    served = list(channel.sales_channels.filter(enabled=True).order_by("pk"))
    with closing(connector_for(channel)) as connector:
        target = capability(connector, FulfillmentTarget)
        for sales in served:
            if not dry_run:
                held = orders_hold_check(channel=sales)["held"]  # looked at and not sent: seen and skipped
                report.seen += held
                report.skipped += held
            orders_submit(channel=sales, connector=target, report=report, dry_run=dry_run)


def orders_acknowledge_flow(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """Tell the channel the fulfillment number of every newly submitted order."""
    with closing(connector_for(channel)) as connector:
        acknowledger = capability(connector, OrderAcknowledger)
        orders_acknowledge(channel=channel, connector=acknowledger, report=report, dry_run=dry_run)


def cancellations_download_flow(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """Download cancellations and cancel, delete from fulfillment, or flag the orders they name."""
    start = since or download_start(channel=channel, flow=CANCELLATIONS)
    started = timezone.now()
    with closing(connector_for(channel)) as connector:
        ids, newest = _cancelled_ids(capability(connector, CancellationSource).cancellations_download(since=start))
    if dry_run:
        for external_id in ids:
            report.say(f"would cancel order {external_id}")
        return
    cancellations_mark(channel=channel, external_ids=ids, report=report)
    _cancel_pending(channel, report)
    if since is None:
        with transaction.atomic():
            cursor_advance(channel=channel, flow=CANCELLATIONS, position=newest or started)


def shipments_download_flow(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """Run on a fulfillment system: store its new shipments (the cursor moves with each committed chunk)."""
    ingest = ShipmentIngest(fulfillment=channel, report=report, dry_run=dry_run)
    if not dry_run:
        ingest.retry_refused()
    start = since or download_start(channel=channel, flow=SHIPMENTS_DOWNLOAD)

    def advance(newest: datetime) -> None:
        if since is None:
            cursor_advance(channel=channel, flow=SHIPMENTS_DOWNLOAD, position=newest)

    with closing(connector_for(channel)) as connector:
        ingest.run(capability(connector, ShipmentSource).shipments_download(since=start), on_chunk=advance)


def shipments_upload_flow(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """Send the channel's pending shipments from the outbox, each exactly once."""
    with closing(connector_for(channel)) as connector:
        shipments_upload(channel=channel, connector=capability(connector, ShipmentSink), report=report, dry_run=dry_run)


def download_start(*, channel: Channel, flow: str) -> datetime | None:
    """Where a scheduled download starts: the cursor minus the overlap, never before the go-live date.

    The go-live date is the channel's (Channel.go_live_at): the flows that start from it cannot be switched on
    without one, and a channel's first download without one would read everything its connector's filters let
    through.
    """
    go_live = channel.go_live_at
    start = cursor_window_start(channel=channel, flow=flow, since=None, overlap=OVERLAP) or go_live
    return max(start, go_live) if start and go_live else start


def _cancelled_ids(items: Iterable[OrderRecord | str]) -> tuple[list[str], datetime | None]:
    ids, newest = [], None
    for item in items:
        if isinstance(item, str):
            ids.append(item)
            continue
        ids.append(item.external_id)
        if item.updated_at and (newest is None or item.updated_at > newest):
            newest = item.updated_at
    return ids, newest


def _cancel_pending(channel: Channel, report: RunReport) -> None:
    """Orders cancelled on the channel that are still open in the fulfillment system: delete them there."""
    pending = Order.objects.filter(channel=channel, cancel_requested=True, status__in=IN_FULFILLMENT)
    if channel.fulfillment_id is None or not pending.exists():
        return
    with closing(connector_for(channel.fulfillment)) as connector:
        cancellations_process(channel=channel, connector=capability(connector, FulfillmentTarget), report=report)
