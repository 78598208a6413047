"""customers.upload to NuORDER: the hub's customers as NuORDER companies, each sent only when it changed since
NuORDER last accepted it (the catalog app's upload ledger, kind "customer").

- Which customers: those of the channels that send their orders to the same fulfillment system as this NuORDER
  channel, and the fulfillment system's own (with no fulfillment system set: every other channel's). Not this
  channel's own retailers: they came from NuORDER.
- New vs existing: by external id — `<channel id>:<the customer's id on its channel>` (ids repeat across
  channels); the ledger keeps the NuORDER company id each one got. The company code is the customer's account
  code, else that external id.
- Addresses: the customer's billing and shipping address (a JSON object, or a list of them) and every distinct
  one on its orders, sorted so the same set always hashes the same; at most MAX_ADDRESSES of each kind.
- Discount: orders.Customer has no discount column yet, so every company goes with 0.
"""

from collections.abc import Iterator
from dataclasses import asdict, astuple
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q

from catalog.models import UploadKind
from catalog.sync_common import say
from catalog.uploads import content_hash, uploads_accepted, uploads_changed
from integrations.chunks import batched
from integrations.connectors import connector_for
from integrations.connectors.capabilities import CustomerSink, capability
from integrations.connectors.records import Address, CustomerRecord
from integrations.flows import RunReport
from integrations.models import Channel
from integrations.selectors import open_issue_keys
from orders.models import Customer, Order
from orders.records import address_from

FLOW = "customers.upload"
BATCH = 100
MAX_ADDRESSES = 20


def customers_upload_flow(
    channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False
) -> None:
    """Send NuORDER the customers that changed since it last accepted them."""
    connector = connector_for(channel)
    try:
        customers_upload(channel=channel, connector=capability(connector, CustomerSink), report=report, dry_run=dry_run)
    finally:
        connector.close()


def customers_upload(*, channel: Channel, connector: CustomerSink, report: RunReport, dry_run: bool) -> None:
    """Compare each hub customer with what the channel accepted; upload the new and changed ones in batches."""
    currency = str(connector.settings.get("currency") or "USD")
    open_keys = open_issue_keys(channel_id=channel.pk, flow=FLOW)
    for batch in batched(customer_records(channel=channel, currency=currency), BATCH):
        report.seen += len(batch)
        hashes = {record.external_id: content_hash(asdict(record)) for record in batch}
        changed = uploads_changed(channel=channel, kind=UploadKind.CUSTOMER, hashes=hashes)
        sending = [record for record in batch if record.external_id in changed]
        report.skipped += len(batch) - len(sending)
        report.succeeded(*(key for key in hashes if key not in changed and key in open_keys))
        if dry_run:
            for record in sending:
                _counted(report, existing=changed[record.external_id])
                say(report, f"{'update' if changed[record.external_id] else 'create'} customer {record.external_id}")
        elif sending:
            _send(channel, connector, report, sending, hashes, changed)


def _send(
    channel: Channel,
    connector: CustomerSink,
    report: RunReport,
    sending: list[CustomerRecord],
    hashes: dict[str, str],
    changed: dict[str, bool],
) -> None:
    results = connector.customers_upload(sending)
    accepted = {}
    for record, result in zip(sending, results, strict=True):
        if result.ok:
            accepted[record.external_id] = (hashes[record.external_id], result.channel_id)
            _counted(report, existing=changed[record.external_id])
            report.succeeded(record.external_id)
        else:
            report.issue(record.external_id, f"NuORDER refused the customer: {result.error}", asdict(record))
    uploads_accepted(channel=channel, kind=UploadKind.CUSTOMER, accepted=accepted)


def _counted(report: RunReport, *, existing: bool) -> None:
    if existing:
        report.updated += 1
    else:
        report.created += 1


def customer_records(*, channel: Channel, currency: str) -> Iterator[CustomerRecord]:
    """The customers to upload as records, by batch: one query for the customers, one for their orders' addresses."""
    rows = Customer.objects.filter(channel__in=_source_channels(channel)).order_by("pk")
    fields = ("pk", "channel_id", "external_id", "name", "code", "billing_address", "shipping_address")
    for batch in batched(rows.values_list(*fields).iterator(chunk_size=BATCH * 10), BATCH):
        used = _order_addresses([row[0] for row in batch])
        for pk, channel_id, external_id, name, code, billing, shipping in batch:
            bill_to, ship_to = used.get(pk, ([], []))
            key = f"{channel_id}:{external_id}"
            yield CustomerRecord(
                external_id=key,
                name=name or external_id,
                code=code or key,
                currency=currency,
                discount=Decimal("0"),
                billing_addresses=_addresses([*_listed(billing), *bill_to]),
                shipping_addresses=_addresses([*_listed(shipping), *ship_to]),
            )


def _source_channels(channel: Channel) -> Any:
    others = Channel.objects.exclude(pk=channel.pk)
    if channel.fulfillment_id is None:
        return others
    return others.filter(Q(fulfillment_id=channel.fulfillment_id) | Q(pk=channel.fulfillment_id))


def _order_addresses(customer_ids: list[int]) -> dict[int, tuple[list, list]]:
    """Every distinct (billing, shipping) pair on these customers' orders, by customer."""
    found: dict[int, tuple[list, list]] = {}
    pairs = (
        Order.objects.filter(customer_id__in=customer_ids).order_by().values_list("customer_id", "bill_to", "ship_to")
    )
    for customer_id, bill_to, ship_to in pairs.distinct():
        billing, shipping = found.setdefault(customer_id, ([], []))
        billing.append(bill_to)
        shipping.append(ship_to)
    return found


def _listed(value: Any) -> list[dict]:
    """A customer's address column holds one address (an object) or several (a list of objects)."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def _addresses(values: list[Any]) -> tuple[Address, ...]:
    """Distinct, non-empty addresses in a stable order (the first listed first, the rest sorted)."""
    unique: dict[tuple, Address] = {}
    for value in values:
        address = address_from(value) if isinstance(value, dict) else None
        if address is not None and any(astuple(address)):
            unique.setdefault(astuple(address), address)
    listed = list(unique.values())
    return tuple(listed[:1] + sorted(listed[1:], key=astuple))[:MAX_ADDRESSES]
