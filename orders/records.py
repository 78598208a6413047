"""From a channel's Order record to the hub's columns: content hashes, validation, import rules."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from integrations.connectors.records import Address, CustomerRef, OrderLineRecord, OrderRecord
from integrations.countries import country_code
from orders.models import OrderRules

ADDRESS_FIELDS = ("name", "company", "line1", "line2", "city", "state", "postal_code", "country", "phone", "email")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Hashes:
    content: str  # everything the record says
    fulfillment: str  # what the fulfillment system receives: lines, addresses, method, customer, money


def record_hashes(record: OrderRecord) -> Hashes:
    """Hashes of a normalised record (never of `raw`): equal hashes mean nothing to write."""
    customer = record.customer
    core = repr(
        (
            record.currency,
            str(record.total),
            _address(record.ship_to),
            _address(record.bill_to),
            record.shipping_method,
            (customer.external_id, customer.name, customer.email, customer.code) if customer else None,
            tuple(_line(line) for line in record.lines),
            json.dumps(record.attributes, sort_keys=True, default=str),
        )
    )
    rest = repr(
        (
            record.number,
            record.status,
            record.placed_at,
            record.updated_at,
            record.cancelled,
            tuple(line.title for line in record.lines),
        )
    )
    return Hashes(content=_digest(core + rest), fulfillment=_digest(core))


def record_problem(record: OrderRecord) -> str:
    """Why the record cannot be stored as an order, or "" (checked before any write, so a chunk never fails)."""
    if not record.external_id or len(record.external_id) > 100:
        return "the order id is empty or longer than 100 characters"
    if len(record.number) > 100:
        return "the order number is longer than 100 characters"
    if record.total < 0 or len(record.currency) > 3:
        return f"invalid total {record.total} {record.currency}"
    if not record.lines:
        return "the order has no lines"
    seen = set()
    for n, line in enumerate(record.lines, start=1):
        if not line.external_id or line.external_id in seen:
            return f"line {n}: the line id is empty or repeated"
        seen.add(line.external_id)
        if line.quantity < 0 or line.unit_price < 0:
            return f"line {n} ({line.sku}): negative quantity or price"
        if len(line.external_id) > 150 or len(line.sku) > 200:
            return f"line {n}: the line id or SKU is too long"
    return ""


def rules_exclusion(record: OrderRecord, rules: OrderRules | None, *, go_live: datetime | None) -> str:
    """Why the channel's go-live date (Channel.go_live_at) or its import rules keep this (new) order out, or ""."""
    if go_live and record.placed_at and record.placed_at < go_live:
        return f"placed {record.placed_at:%Y-%m-%d %H:%M}, before the go-live date"
    if rules is None:
        return ""
    # Codes on both sides, so a rule of `US` takes an order shipping to `USA` or `United States`.
    countries = {country_code(c) for c in split_list(rules.ship_to_countries, upper=True)}
    if countries and country_code(record.ship_to.country) not in countries:
        return f"ships to {record.ship_to.country or 'no country'}, not one of {', '.join(sorted(countries))}"
    tags = split_list(rules.required_tags)
    if tags and not tags & {str(t).lower() for t in _tags(record)}:
        return f"has none of the tags {', '.join(sorted(tags))}"
    return ""


def order_fields(record: OrderRecord, hashes: Hashes, *, now: datetime) -> dict[str, Any]:
    """The Order columns a record sets (customer and lines are handled separately)."""
    return {
        "number": record.number or record.external_id,
        "channel_status": str(record.status)[:50],
        "placed_at": record.placed_at or record.updated_at or now,
        "channel_updated_at": record.updated_at,
        "ship_to": address_dict(record.ship_to),
        "bill_to": address_dict(record.bill_to),
        "shipping_method": record.shipping_method[:200],
        "attributes": record.attributes,
        "currency": record.currency or "USD",
        "total": record.total.quantize(CENT),
        "raw": record.raw,
        "content_hash": hashes.content,
        "fulfillment_hash": hashes.fulfillment,
        "updated_at": now,
    }


# The columns order_fields sets, for bulk_update.
REPLACED_FIELDS = (
    "number",
    "channel_status",
    "placed_at",
    "channel_updated_at",
    "ship_to",
    "bill_to",
    "shipping_method",
    "attributes",
    "currency",
    "total",
    "raw",
    "content_hash",
    "fulfillment_hash",
    "updated_at",
)
# After submission only these follow the channel; the rest stays as it was submitted.
INFO_FIELDS = ("number", "channel_status", "channel_updated_at", "content_hash", "updated_at")


def address_dict(address: Address) -> dict[str, str]:
    return {name: getattr(address, name) for name in ADDRESS_FIELDS}


def address_from(data: dict[str, Any] | None) -> Address:
    return Address(**{name: str((data or {}).get(name) or "") for name in ADDRESS_FIELDS})


def customer_ref(record: OrderRecord) -> CustomerRef | None:
    customer = record.customer
    return customer if customer and customer.external_id else None


def split_list(text: str, *, upper: bool = False) -> set[str]:
    parts = {part.strip() for part in (text or "").split(",") if part.strip()}
    return {p.upper() for p in parts} if upper else {p.lower() for p in parts}


# Where each connector puts an order's tags: ChannelAdvisor `tags`, NuORDER `order_tags`, Extensiv `labels`.
TAG_ATTRIBUTES = ("tags", "order_tags", "labels")


def _tags(record: OrderRecord) -> list[Any]:
    tags: list[Any] = []
    for name in TAG_ATTRIBUTES:
        value = record.attributes.get(name) or []
        tags.extend([value] if isinstance(value, str) else value)
    return tags


def _address(address: Address) -> tuple[str, ...]:
    return tuple(getattr(address, name) for name in ADDRESS_FIELDS)


def _line(line: OrderLineRecord) -> tuple[Any, ...]:
    parts = tuple((part.sku, part.quantity, part.product_id) for part in line.bundle_parts)
    fields = (line.external_id, line.sku, line.quantity, str(line.unit_price), line.product_id, line.upc, parts)
    # A line's attributes count only when it has some, so the hashes of orders stored before lines had them stand.
    return (*fields, json.dumps(line.attributes, sort_keys=True, default=str)) if line.attributes else fields


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
