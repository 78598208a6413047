"""Customers as the channels name them on their orders: upserted per channel, written only when changed."""

from typing import Any

from integrations.connectors.records import OrderRecord
from integrations.models import Channel
from orders.models import Customer
from orders.records import address_dict, customer_ref

CUSTOMER_FIELDS = ("name", "email", "code", "billing_address", "shipping_address")


def customers_upsert(*, channel: Channel, records: list[OrderRecord]) -> dict[str, int]:
    """Upsert the customers these orders name (the last order's addresses win), writing only new or changed
    ones; every one's id by its external id."""
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        ref = customer_ref(record)
        if ref:
            latest[ref.external_id[:100]] = {
                "name": ref.name[:200],
                "email": ref.email[:254],
                "code": ref.code[:100],
                "billing_address": address_dict(record.bill_to),
                "shipping_address": address_dict(record.ship_to),
            }
    if not latest:
        return {}
    rows = Customer.objects.filter(channel=channel, external_id__among=list(latest)).values(
        "id", "external_id", *CUSTOMER_FIELDS
    )
    known = {row.pop("external_id"): row for row in rows}
    ids = {key: row.pop("id") for key, row in known.items()}
    changed = [
        Customer(channel=channel, external_id=key, **values)
        for key, values in latest.items()
        if known.get(key) != values
    ]
    Customer.objects.bulk_create(
        changed,
        update_conflicts=True,
        unique_fields=["channel", "external_id"],
        update_fields=[*CUSTOMER_FIELDS, "updated_at"],
    )
    return ids | {customer.external_id: customer.pk for customer in changed}
