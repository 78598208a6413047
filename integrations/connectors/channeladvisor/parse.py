"""ChannelAdvisor payloads → records. `r` is the connector's PayloadReader: a missing required field is a
BadResponse naming it and the order, item or product it belongs to."""

from typing import Any

from integrations.connectors.reader import PayloadReader
from integrations.connectors.records import (
    Address,
    BundlePart,
    ChannelQuantity,
    CustomerRef,
    Listing,
    OrderLineRecord,
    OrderRecord,
    ShipmentLineRecord,
    ShipmentRecord,
    WarehouseRecord,
)

# Order fields worth keeping on the hub's order (tags, site, notes, statuses), by the hub's name.
ORDER_ATTRIBUTES = {
    "site": "SiteName",
    "site_id": "SiteID",
    "profile_id": "ProfileID",
    "site_order_id": "SiteOrderID",
    "seller_order_id": "SellerOrderID",
    "public_notes": "PublicNotes",
    "private_notes": "PrivateNotes",
    "special_instructions": "SpecialInstructions",
    "checkout_status": "CheckoutStatus",
    "payment_status": "PaymentStatus",
    "shipping_carrier": "RequestedShippingCarrier",
    "shipping_class": "RequestedShippingClass",
    "distribution_center_type": "DistributionCenterTypeRollup",
    "deliver_by": "DeliverByDateUtc",
}


def order(r: PayloadReader, data: Any) -> OrderRecord:
    order_id = r.field(data, "ID", "an order")
    where = f"order {order_id}"
    status = r.opt(data, "ShippingStatus")
    carrier_and_class = (r.opt(data, "RequestedShippingCarrier"), r.opt(data, "RequestedShippingClass"))
    return OrderRecord(
        external_id=str(order_id),
        # Orders keyed in by hand have no marketplace number: CA's own ID stands in.
        number=str(r.opt(data, "SiteOrderID") or order_id),
        status=status,
        placed_at=r.timestamp(data.get("CreatedDateUtc"), "CreatedDateUtc", where),
        updated_at=r.timestamp(data.get("UpdatedDateUtc"), "UpdatedDateUtc", where),
        currency=r.opt(data, "Currency", "USD"),
        total=r.decimal(r.opt(data, "TotalPrice", 0), "TotalPrice", where),
        ship_to=address(r, data, "Shipping"),
        bill_to=address(r, data, "Billing"),
        shipping_method=" ".join(part for part in carrier_and_class if part),
        customer=customer(r, data),
        lines=tuple(order_line(r, item, where) for item in r.field(data, "Items", where, kind=list)),
        attributes=attributes(r, data),
        cancelled=status == "Canceled",
        raw=data,
    )


def address(r: PayloadReader, data: dict, prefix: str) -> Address:
    def get(name: str) -> str:
        return str(r.opt(data, prefix + name)).strip()

    return Address(
        name=" ".join(part for part in (get("FirstName"), get("LastName")) if part),
        company=get("CompanyName"),
        line1=get("AddressLine1"),
        line2=get("AddressLine2"),
        city=get("City"),
        state=get("StateOrProvince"),
        postal_code=get("PostalCode"),
        country=get("Country"),
        phone=get("DaytimePhone"),
        email=str(r.opt(data, "BuyerEmailAddress")),
    )


def customer(r: PayloadReader, data: dict) -> CustomerRef | None:
    """CA has no customer entity; the buyer's email is the stable key marketplaces give."""
    email = str(r.opt(data, "BuyerEmailAddress")).strip()
    if not email:
        return None
    return CustomerRef(external_id=email.lower(), name=address(r, data, "Billing").name, email=email)


def attributes(r: PayloadReader, data: dict) -> dict[str, Any]:
    values = {name: r.opt(data, field, None) for name, field in ORDER_ATTRIBUTES.items()}
    tags = [tag.strip() for tag in str(r.opt(data, "OrderTags")).split(",") if tag.strip()]
    return {name: value for name, value in values.items() if value not in (None, "")} | ({"tags": tags} if tags else {})


def order_line(r: PayloadReader, item: Any, where: str) -> OrderLineRecord:
    item_id = r.field(item, "ID", where)
    at = f"{where} item {item_id}"
    parts = tuple(
        BundlePart(
            sku=str(r.field(part, "Sku", f"{at} bundle component")),
            quantity=r.integer(r.field(part, "Quantity", f"{at} bundle component"), "Quantity", at),
            product_id=str(r.opt(part, "ProductID")),
        )
        for part in r.opt(item, "BundleComponents", [])
    )
    return OrderLineRecord(
        external_id=str(item_id),
        sku=str(item.get("Sku") or item.get("SKU") or r.field(item, "Sku", at)),
        quantity=r.integer(r.field(item, "Quantity", at), "Quantity", at),
        unit_price=r.decimal(r.opt(item, "UnitPrice", 0), "UnitPrice", at),
        title=str(r.opt(item, "Title")),
        product_id=str(r.opt(item, "ProductID")),
        is_bundle=bool(parts),
        bundle_parts=parts,
    )


def shipments(r: PayloadReader, data: dict) -> list[ShipmentRecord]:
    """The order's fulfillments that carry a tracking number. `external_id` is the SellerFulfillmentID the
    hub sent (its own shipment id) when there is one, else CA's fulfillment ID."""
    order_id = str(r.field(data, "ID", "an order"))
    where = f"order {order_id}"
    skus = {str(r.field(i, "ID", where)): str(i.get("Sku") or i.get("SKU") or "") for i in r.opt(data, "Items", [])}
    complete = r.opt(data, "ShippingStatus") == "Shipped"
    found = []
    for fulfillment in r.field(data, "Fulfillments", where, kind=list):
        at = f"{where} fulfillment {r.field(fulfillment, 'ID', where)}"
        if not r.opt(fulfillment, "TrackingNumber") or r.opt(fulfillment, "DeliveryStatus") == "Canceled":
            continue
        lines = tuple(
            ShipmentLineRecord(
                line_ref=str(r.field(row, "OrderItemID", at)),
                sku=skus.get(str(row.get("OrderItemID")), ""),
                quantity=r.integer(r.field(row, "Quantity", at), "Quantity", at),
            )
            for row in r.opt(fulfillment, "Items", [])
        )
        found.append(
            ShipmentRecord(
                external_id=str(r.opt(fulfillment, "SellerFulfillmentID") or fulfillment["ID"]),
                order_number=order_id,
                tracking_number=str(fulfillment["TrackingNumber"]),
                carrier=str(r.opt(fulfillment, "ShippingCarrier")),
                service=str(r.opt(fulfillment, "ShippingClass")),
                warehouse=str(r.opt(fulfillment, "DistributionCenterID")),
                shipped_at=r.timestamp(fulfillment.get("ShippedDateUtc"), "ShippedDateUtc", at),
                lines=lines,
                order_complete=complete,
                updated_at=r.timestamp(fulfillment.get("UpdatedDateUtc"), "UpdatedDateUtc", at),
                channel_ref=str(fulfillment["ID"]),
            )
        )
    return found


def listing(r: PayloadReader, data: Any) -> Listing:
    product_id = r.field(data, "ID", "a product")
    where = f"product {product_id}"
    identifiers = [str(r.opt(data, name)) for name in ("EAN", "MPN", "ASIN") if r.opt(data, name)]
    return Listing(
        sku=str(r.field(data, "Sku", where)),
        product_id=str(product_id),
        upc=str(r.opt(data, "UPC")),
        title=str(r.opt(data, "Title")),
        data={
            "attributes": {str(r.field(a, "Name", where)): r.opt(a, "Value") for a in r.opt(data, "Attributes", [])},
            "images": [str(r.field(i, "Url", where)) for i in r.opt(data, "Images", [])],
            "labels": [str(r.field(label, "Name", where)) for label in r.opt(data, "Labels", [])],
            "aliases": identifiers,
            "brand": r.opt(data, "Brand"),
            "bundle_type": r.opt(data, "BundleType"),
            "is_parent": bool(r.opt(data, "IsParent", False)),
            "parent_product_id": str(r.opt(data, "ParentProductID")),
        },
        updated_at=r.timestamp(data.get("UpdateDateUtc"), "UpdateDateUtc", where),
    )


def dc_quantities(r: PayloadReader, data: Any) -> list[ChannelQuantity]:
    product_id = r.field(data, "ID", "a product")
    where = f"product {product_id}"
    sku = str(r.field(data, "Sku", where))
    return [
        ChannelQuantity(
            sku=sku,
            warehouse_id=str(r.field(row, "DistributionCenterID", where)),
            quantity=r.integer(r.field(row, "AvailableQuantity", where), "AvailableQuantity", where),
            product_id=str(product_id),
        )
        for row in r.field(data, "DCQuantities", where, kind=list)
    ]


def warehouse(r: PayloadReader, data: Any) -> WarehouseRecord:
    dc_id = r.field(data, "ID", "a distribution center")
    return WarehouseRecord(
        external_id=str(dc_id),
        name=str(r.opt(data, "Name") or r.opt(data, "Code") or dc_id),
        code=str(r.opt(data, "Code")),
        active=not r.opt(data, "IsDeleted", False),
    )
