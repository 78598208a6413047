"""Order Manager payloads → records, and the transport hooks that read OM's errors and quota header.
Every required field goes through the PayloadReader `r`, so a missing one is a BadResponse naming it."""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import requests

from integrations.connectors.reader import PayloadReader
from integrations.connectors.records import (
    Address,
    CustomerRef,
    Listing,
    OrderLineRecord,
    OrderRecord,
    ShipmentLineRecord,
    ShipmentRecord,
    WarehouseRecord,
)
from integrations.http import BadResponse, body_message, parse_retry_after

QUOTA_HEADER = "x-skubana-quota-retryAfter"  # milliseconds
DEFAULT_QUOTA_WAIT = 15.0  # seconds, when a 429 comes without the header (as tap-skubana assumes)
BUNDLE_TYPE = "BUNDLE"  # product.productType of a bundle/kit: the value string is [I]
CANCELLED = "CANCELLED"


def om_time(moment: datetime, *, round_up: bool = False) -> str:
    """OM's date parameter format, yyyy-MM-ddTHH:mm:ssZ in UTC; round_up keeps a window's end inclusive."""
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    if round_up and moment.microsecond:
        moment += timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def order_record(r: PayloadReader, row: Any, *, use_listing_sku: bool) -> OrderRecord:
    """One OM order → Order; bundles stay one line (OM does not expand components), flagged is_bundle."""
    order_id = r.field(row, "orderId", "an order")
    where = f"order {order_id}"
    status = r.field(row, "orderStatus", where, kind=str)
    items = r.field(row, "orderItems", where, kind=list)
    total = _money(r, row, "orderTotal", where)
    ship_method = _mapping(r, row, "shipMethod", where)
    return OrderRecord(
        external_id=str(order_id),
        number=str(r.field(row, "orderNumber", where)),
        status=status,
        placed_at=r.timestamp(row.get("orderDate"), "orderDate", where),
        updated_at=r.timestamp(row.get("modifiedDate"), "modifiedDate", where),
        currency=r.opt(row, "currency") or r.opt(row.get("orderTotal") or {}, "currency", "USD"),
        total=total,
        ship_to=_ship_to(r, row),
        shipping_method=r.opt(row, "requestedShippingService") or r.opt(ship_method, "shippingCarrier"),
        customer=_customer(r, row, where),
        lines=tuple(_line(r, item, where, use_listing_sku) for item in items),
        attributes=_attributes(r, row, where),
        cancelled=status == CANCELLED,
        raw=row,
    )


def _line(r: PayloadReader, item: Any, where: str, use_listing_sku: bool) -> OrderLineRecord:
    item_id = r.field(item, "orderItemId", f"an item of {where}")
    here = f"item {item_id} of {where}"
    product = _mapping(r, item, "product", here)
    sku = (
        r.field(item, "listingSku", here)
        if use_listing_sku
        else r.field(r.field(item, "product", here), "masterSku", here)
    )
    return OrderLineRecord(
        external_id=str(item_id),
        sku=str(sku),
        quantity=r.integer(r.field(item, "quantityOrdered", here), "quantityOrdered", here),
        unit_price=_money(r, item, "unitPrice", here),
        title=r.opt(item, "listingName") or r.opt(product, "name"),
        product_id=str(r.opt(product, "productId")),
        upc=str(r.opt(product, "upc")),
        is_bundle=r.opt(product, "productType") == BUNDLE_TYPE,
    )


def _ship_to(r: PayloadReader, row: Mapping[str, Any]) -> Address:
    extra = (r.opt(row, "shipAddress2"), r.opt(row, "shipAddress3"))
    return Address(
        name=r.opt(row, "shipName"),
        company=r.opt(row, "shipCompany"),
        line1=r.opt(row, "shipAddress1"),
        line2=" ".join(part for part in extra if part),
        city=r.opt(row, "shipCity"),
        state=r.opt(row, "shipState"),
        postal_code=r.opt(row, "shipZipCode"),
        country=r.opt(row, "shipCountry"),
        phone=r.opt(row, "shipPhone"),
        email=r.opt(row, "shipEmail"),
    )


def _customer(r: PayloadReader, row: Mapping[str, Any], where: str) -> CustomerRef | None:
    customer = _mapping(r, row, "customer", where)
    if not customer:
        return None
    emails = r.opt(customer, "emailAddresses", [])
    return CustomerRef(
        external_id=str(r.field(customer, "customerId", f"the customer of {where}")),
        name=r.opt(customer, "name") or r.opt(customer, "companyName"),
        email=str(emails[0]) if isinstance(emails, list) and emails else "",
    )


def _attributes(r: PayloadReader, row: Mapping[str, Any], where: str) -> dict[str, Any]:
    channel = _mapping(r, row, "salesChannel", where)
    source = _mapping(r, row, "fulfillmentSource", where)
    custom = {name: row[name] for name in ("customField1", "customField2", "customField3") if row.get(name)}
    items = [i for i in row.get("orderItems") or [] if isinstance(i, Mapping)]
    return {
        "sales_channel": r.opt(channel, "name"),
        "sales_channel_id": r.opt(channel, "salesChannelId"),
        "warehouse_id": r.opt(source, "warehouseId"),
        "labels": r.opt(row, "labels", []),
        "internal_notes": r.opt(row, "internalNotes"),
        "notes_from_buyer": r.opt(row, "notesFromBuyer"),
        "cancel_reason": r.opt(row, "cancelReason"),
        "custom_fields": custom,
        "ship_method": r.opt(row, "shipMethod", {}),
        # Both SKUs of every line, whichever one the lines carry (use_listing_sku).
        "line_skus": {
            str(i.get("orderItemId")): {
                "listingSku": i.get("listingSku"),
                "masterSku": (i.get("product") or {}).get("masterSku"),
            }
            for i in items
        },
    }


def shipment_records(r: PayloadReader, row: Mapping[str, Any]) -> list[ShipmentRecord]:
    """The shipments an OM order already carries (`shipments`, or else the single `shipment`)."""
    order_id = str(r.field(row, "orderId", "an order"))
    where = f"the shipments of order {order_id}"
    entries = r.opt(row, "shipments", [])
    if not isinstance(entries, list):
        raise BadResponse(f"field 'shipments' in {where} is not a list", channel=r.label)
    if not entries and isinstance(row.get("shipment"), Mapping):
        entries = [row["shipment"]]
    return [_shipment(r, entry, order_id, where) for entry in entries]


def _shipment(r: PayloadReader, entry: Any, order_id: str, where: str) -> ShipmentRecord:
    method = _mapping(r, entry, "shipMethod", where)
    items = r.opt(entry, "items", [])
    tracking = str(r.field(entry, "trackingNumber", where))
    return ShipmentRecord(
        external_id=str(r.opt(entry, "shipmentId") or tracking),
        order_number=order_id,
        tracking_number=tracking,
        carrier=r.opt(method, "shippingCarrier"),
        service=r.opt(method, "shippingService"),
        shipped_at=r.timestamp(entry.get("shipDate"), "shipDate", where),
        lines=tuple(
            ShipmentLineRecord(
                line_ref=str(r.opt(item, "orderItemId")),
                sku=str(r.field(item, "listingSku", where)),
                quantity=r.integer(r.field(item, "quantity", where), "quantity", where),
            )
            for item in items
        ),
    )


def warehouse_record(r: PayloadReader, row: Any) -> WarehouseRecord:
    warehouse_id = r.field(row, "warehouseId", "a warehouse")
    return WarehouseRecord(
        external_id=str(warehouse_id),
        name=str(r.opt(row, "name") or warehouse_id),
        active=bool(r.opt(row, "active", True)),
    )


def listing_record(r: PayloadReader, row: Any, product: Mapping[str, Any], *, use_listing_sku: bool) -> Listing:
    """A listing (channel SKU → master SKU), with the UPC and name of its OM product."""
    listing_id = r.field(row, "listingId", "a listing")
    where = f"listing {listing_id}"
    listing_sku = str(r.field(row, "listingSku", where))
    data = {name: row.get(name) for name in ("listingId", "listingSku", "masterSku", "salesChannelId", "active")}
    data.update(pushInventory=row.get("pushInventory"), fnSku=row.get("fnSku"), productType=product.get("type"))
    return Listing(
        sku=listing_sku if use_listing_sku else str(r.field(row, "masterSku", where)),
        product_id=str(r.opt(row, "productId")),
        upc=str(r.opt(product, "upc")),
        title=r.opt(product, "name") or listing_sku,
        data=data,
        updated_at=r.timestamp(row.get("lastModified"), "lastModified", where),
    )


def _money(r: PayloadReader, obj: Mapping[str, Any], name: str, where: str) -> Decimal:
    value = _mapping(r, obj, name, where)
    if not value:
        return Decimal("0")
    return r.decimal(r.field(value, "amount", f"{name} of {where}"), "amount", f"{name} of {where}")


def _mapping(r: PayloadReader, obj: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    value = obj.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BadResponse(f"field '{name}' in {where} is not an object", channel=r.label)
    return value


def retry_after(response: requests.Response) -> float | None:
    """Seconds to wait: OM's quota header is in milliseconds; a 429 without it waits the default."""
    value = response.headers.get(QUOTA_HEADER)
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    if response.status_code == 429:
        return DEFAULT_QUOTA_WAIT
    return parse_retry_after(response.headers.get("Retry-After"))


def error_reason(response: requests.Response) -> str:
    """OM answers errors as OAuth errors (401), Spring-style objects, lists of row errors, or text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, Mapping):
        said = body_message({key: body.get(key) for key in ("error_description", "message", "error")})
        if said:
            return said
        body = body.get("errors") or body
    if isinstance(body, list) and body and isinstance(body[0], Mapping) and body[0].get("errorCode"):
        return " ".join(str(body[0][key]) for key in ("errorCode", "message") if body[0].get(key))
    return body_message(body)
