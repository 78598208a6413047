"""Whole-order confirmation, for channels whose ship call marks the whole order shipped (`confirms_whole_order`,
Extensiv Order Manager's PUT /v1.1/shipment/external).

Sent parcel by parcel, the first parcel would tell the channel the whole order shipped while its other lines are
still in the warehouse, and a later parcel would be refused (the order is already shipped). So an order's uploads
wait, pending and not failed, until every line is shipped or cancelled; then one of them (the last shipment's,
the *lead*) carries every parcel of the order in `ShipmentRecord.parcels`, and the others ride along: they are
marked sent with it, or failed / retried with it.
"""

from collections.abc import Callable
from dataclasses import replace

from django.db.models import Q

from integrations.connectors.records import ShipmentRecord
from integrations.flows import RunReport
from orders.models import OrderStatus, Shipment, ShipmentUpload, UploadState

Riders = dict[int, list[ShipmentUpload]]  # the lead upload's pk -> the other uploads of its order


def whole_orders(
    batch: list[ShipmentUpload],
    records: dict[int, ShipmentRecord],
    report: RunReport,
    channel_shipments: Callable[[list[ShipmentUpload]], dict[int, ShipmentRecord]],
) -> tuple[list[ShipmentUpload], dict[int, ShipmentRecord], Riders]:
    """The batch reduced to one lead upload per complete order (its record carrying every parcel), the riders
    of each lead, and the incomplete orders' uploads left pending (counted seen and skipped). Corrections pass
    through unchanged. Three queries for the batch."""
    kept: list[ShipmentUpload] = []
    groups: dict[int, list[ShipmentUpload]] = {}
    for upload in batch:
        order = upload.shipment.order
        if upload.correction:
            kept.append(upload)
        elif order.status != OrderStatus.SHIPPED:
            report.seen += 1
            report.skipped += 1  # confirmed once every line of the order is shipped or cancelled
        else:
            groups.setdefault(order.pk, []).append(upload)
    if not groups:
        return kept, records, {}
    in_batch = {u.pk for u in batch}
    later = list(  # the same orders' pending uploads beyond this batch (or waiting on a backoff) ride too
        ShipmentUpload.objects.filter(
            Q(channel_id=batch[0].channel_id) & Q(state=UploadState.PENDING, correction=False),
            shipment__order_id__in=list(groups),
        )
        .exclude(pk__in=in_batch)
        .select_related("shipment__order")
    )
    for upload in later:
        groups[upload.shipment.order_id].append(upload)
    parcels: dict[int, list[ShipmentRecord]] = {}
    for shipment in Shipment.objects.filter(order_id__in=list(groups)).select_related("order").order_by("pk"):
        parcels.setdefault(shipment.order_id, []).append(_parcel(shipment))
    riders: Riders = {}
    for order_id, uploads in groups.items():
        uploads.sort(key=lambda u: u.shipment_id)
        lead, others = uploads[-1], uploads[:-1]
        record = records.get(lead.pk)
        if record is None:  # the lead came from beyond the batch
            record = channel_shipments([lead])[lead.pk]
            records = {**records, lead.pk: record}
        lines = tuple(line for u in uploads if u.pk in records for line in records[u.pk].lines)
        records[lead.pk] = replace(record, lines=lines, order_complete=True, parcels=tuple(parcels[order_id]))
        riders[lead.pk] = others
        kept.append(lead)
    report.seen += sum(1 for uploads in groups.values() for u in uploads[:-1] if u.pk in in_batch)
    return sorted(kept, key=lambda u: u.pk), records, riders


def riders_follow(riders: list[ShipmentUpload], lead: ShipmentUpload) -> None:
    """Give the riders the lead's outcome when it was not sent: failed with it, or waiting for its retry."""
    if riders:
        ShipmentUpload.objects.filter(pk__in=[u.pk for u in riders]).update(
            state=lead.state, last_error=lead.last_error, next_attempt_at=lead.next_attempt_at
        )


def rider_event(upload: ShipmentUpload, lead: ShipmentUpload, channel_name: str) -> str:
    return (
        f"shipment {upload.shipment.external_id} confirmed to {channel_name} with the whole order "
        f"(in the confirmation of shipment {lead.shipment.external_id})"
    )


def _parcel(shipment: Shipment) -> ShipmentRecord:
    return ShipmentRecord(
        external_id=shipment.external_id,
        order_number=shipment.order.external_id,
        tracking_number=shipment.tracking_number,
        carrier=shipment.carrier,
        service=shipment.service,
        shipped_at=shipment.shipped_at,
    )
