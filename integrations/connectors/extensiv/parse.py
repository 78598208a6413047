"""Order Manager payloads → records, and the transport hooks that read OM's errors and quota header.
Every required field goes through the Connector helpers, so a missing one is a BadResponse naming it."""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import requests

from integrations.connectors.base import Connector
from integrations.connectors.records import (
    Address,
    CustomerRef,
    Listing,
    Order,
    OrderLine,
    Shipment,
    ShipmentLine,
    Warehouse,
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


def order_record(c: Connector, row: Any, *, use_listing_sku: bool) -> Order:
    """One OM order → Order; bundles stay one line (OM does not expand components), flagged is_bundle."""
    order_id = c.field(row, "orderId", "an order")
    where = f"order {order_id}"
    status = c.field(row, "orderStatus", where, kind=str)
    items = c.field(row, "orderItems", where, kind=list)
    total = _money(c, row, "orderTotal", where)
    ship_method = _mapping(c, row, "shipMethod", where)
    return Order(
        external_id=str(order_id),
        number=str(c.field(row, "orderNumber", where)),
        status=status,
        placed_at=c.timestamp(row.get("orderDate"), "orderDate", where),
        updated_at=c.timestamp(row.get("modifiedDate"), "modifiedDate", where),
        currency=c.opt(row, "currency") or c.opt(row.get("orderTotal") or {}, "currency", "USD"),
        total=total,
        ship_to=_ship_to(c, row),
        shipping_method=c.opt(row, "requestedShippingService") or c.opt(ship_method, "shippingCarrier"),
        customer=_customer(c, row, where),
        lines=tuple(_line(c, item, where, use_listing_sku) for item in items),
        attributes=_attributes(c, row, where),
        cancelled=status == CANCELLED,
        raw=row,
    )


def _line(c: Connector, item: Any, where: str, use_listing_sku: bool) -> OrderLine:
    item_id = c.field(item, "orderItemId", f"an item of {where}")
    here = f"item {item_id} of {where}"
    product = _mapping(c, item, "product", here)
    sku = (
        c.field(item, "listingSku", here)
        if use_listing_sku
        else c.field(c.field(item, "product", here), "masterSku", here)
    )
    return OrderLine(
        external_id=str(item_id),
        sku=str(sku),
        quantity=c.integer(c.field(item, "quantityOrdered", here), "quantityOrdered", here),
        unit_price=_money(c, item, "unitPrice", here),
        title=c.opt(item, "listingName") or c.opt(product, "name"),
        product_id=str(c.opt(product, "productId")),
        upc=str(c.opt(product, "upc")),
        is_bundle=c.opt(product, "productType") == BUNDLE_TYPE,
    )


def _ship_to(c: Connector, row: Mapping[str, Any]) -> Address:
    extra = (c.opt(row, "shipAddress2"), c.opt(row, "shipAddress3"))
    return Address(
        name=c.opt(row, "shipName"),
        company=c.opt(row, "shipCompany"),
        line1=c.opt(row, "shipAddress1"),
        line2=" ".join(part for part in extra if part),
        city=c.opt(row, "shipCity"),
        state=c.opt(row, "shipState"),
        postal_code=c.opt(row, "shipZipCode"),
        country=c.opt(row, "shipCountry"),
        phone=c.opt(row, "shipPhone"),
        email=c.opt(row, "shipEmail"),
    )


def _customer(c: Connector, row: Mapping[str, Any], where: str) -> CustomerRef | None:
    customer = _mapping(c, row, "customer", where)
    if not customer:
        return None
    emails = c.opt(customer, "emailAddresses", [])
    return CustomerRef(
        external_id=str(c.field(customer, "customerId", f"the customer of {where}")),
        name=c.opt(customer, "name") or c.opt(customer, "companyName"),
        email=str(emails[0]) if isinstance(emails, list) and emails else "",
    )


def _attributes(c: Connector, row: Mapping[str, Any], where: str) -> dict[str, Any]:
    channel = _mapping(c, row, "salesChannel", where)
    source = _mapping(c, row, "fulfillmentSource", where)
    custom = {name: row[name] for name in ("customField1", "customField2", "customField3") if row.get(name)}
    items = [i for i in row.get("orderItems") or [] if isinstance(i, Mapping)]
    return {
        "sales_channel": c.opt(channel, "name"),
        "sales_channel_id": c.opt(channel, "salesChannelId"),
        "warehouse_id": c.opt(source, "warehouseId"),
        "labels": c.opt(row, "labels", []),
        "internal_notes": c.opt(row, "internalNotes"),
        "notes_from_buyer": c.opt(row, "notesFromBuyer"),
        "cancel_reason": c.opt(row, "cancelReason"),
        "custom_fields": custom,
        "ship_method": c.opt(row, "shipMethod", {}),
        # Both SKUs of every line, whichever one the lines carry (use_listing_sku).
        "line_skus": {
            str(i.get("orderItemId")): {
                "listingSku": i.get("listingSku"),
                "masterSku": (i.get("product") or {}).get("masterSku"),
            }
            for i in items
        },
    }


def shipment_records(c: Connector, row: Mapping[str, Any]) -> list[Shipment]:
    """The shipments an OM order already carries (`shipments`, or else the single `shipment`)."""
    order_id = str(c.field(row, "orderId", "an order"))
    where = f"the shipments of order {order_id}"
    entries = c.opt(row, "shipments", [])
    if not isinstance(entries, list):
        raise BadResponse(f"field 'shipments' in {where} is not a list", channel=c.label)
    if not entries and isinstance(row.get("shipment"), Mapping):
        entries = [row["shipment"]]
    return [_shipment(c, entry, order_id, where) for entry in entries]


def _shipment(c: Connector, entry: Any, order_id: str, where: str) -> Shipment:
    method = _mapping(c, entry, "shipMethod", where)
    items = c.opt(entry, "items", [])
    tracking = str(c.field(entry, "trackingNumber", where))
    return Shipment(
        external_id=str(c.opt(entry, "shipmentId") or tracking),
        order_number=order_id,
        tracking_number=tracking,
        carrier=c.opt(method, "shippingCarrier"),
        service=c.opt(method, "shippingService"),
        shipped_at=c.timestamp(entry.get("shipDate"), "shipDate", where),
        lines=tuple(
            ShipmentLine(
                line_ref=str(c.opt(item, "orderItemId")),
                sku=str(c.field(item, "listingSku", where)),
                quantity=c.integer(c.field(item, "quantity", where), "quantity", where),
            )
            for item in items
        ),
    )


def warehouse_record(c: Connector, row: Any) -> Warehouse:
    warehouse_id = c.field(row, "warehouseId", "a warehouse")
    return Warehouse(
        external_id=str(warehouse_id),
        name=str(c.opt(row, "name") or warehouse_id),
        active=bool(c.opt(row, "active", True)),
    )


def listing_record(c: Connector, row: Any, product: Mapping[str, Any], *, use_listing_sku: bool) -> Listing:
    """A listing (channel SKU → master SKU), with the UPC and name of its OM product."""
    listing_id = c.field(row, "listingId", "a listing")
    where = f"listing {listing_id}"
    listing_sku = str(c.field(row, "listingSku", where))
    data = {name: row.get(name) for name in ("listingId", "listingSku", "masterSku", "salesChannelId", "active")}
    data.update(pushInventory=row.get("pushInventory"), fnSku=row.get("fnSku"), productType=product.get("type"))
    return Listing(
        sku=listing_sku if use_listing_sku else str(c.field(row, "masterSku", where)),
        product_id=str(c.opt(row, "productId")),
        upc=str(c.opt(product, "upc")),
        title=c.opt(product, "name") or listing_sku,
        data=data,
        updated_at=c.timestamp(row.get("lastModified"), "lastModified", where),
    )


def _money(c: Connector, obj: Mapping[str, Any], name: str, where: str) -> Decimal:
    value = _mapping(c, obj, name, where)
    if not value:
        return Decimal("0")
    return c.decimal(c.field(value, "amount", f"{name} of {where}"), "amount", f"{name} of {where}")


def _mapping(c: Connector, obj: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    value = obj.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BadResponse(f"field '{name}' in {where} is not an object", channel=c.label)
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
