"""ChannelAdvisor payloads → records. `c` is the connector, for its field/opt/number helpers: a missing
required field is a BadResponse naming it and the order, item or product it belongs to."""

from typing import Any

from integrations.connectors.base import Connector
from integrations.connectors.records import (
    Address,
    BundlePart,
    ChannelQuantity,
    CustomerRef,
    Listing,
    Order,
    OrderLine,
    Shipment,
    ShipmentLine,
    Warehouse,
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


def order(c: Connector, data: Any) -> Order:
    order_id = c.field(data, "ID", "an order")
    where = f"order {order_id}"
    status = c.opt(data, "ShippingStatus")
    carrier_and_class = (c.opt(data, "RequestedShippingCarrier"), c.opt(data, "RequestedShippingClass"))
    return Order(
        external_id=str(order_id),
        # Orders keyed in by hand have no marketplace number: CA's own ID stands in.
        number=str(c.opt(data, "SiteOrderID") or order_id),
        status=status,
        placed_at=c.timestamp(data.get("CreatedDateUtc"), "CreatedDateUtc", where),
        updated_at=c.timestamp(data.get("UpdatedDateUtc"), "UpdatedDateUtc", where),
        currency=c.opt(data, "Currency", "USD"),
        total=c.decimal(c.opt(data, "TotalPrice", 0), "TotalPrice", where),
        ship_to=address(c, data, "Shipping"),
        bill_to=address(c, data, "Billing"),
        shipping_method=" ".join(part for part in carrier_and_class if part),
        customer=customer(c, data),
        lines=tuple(order_line(c, item, where) for item in c.field(data, "Items", where, kind=list)),
        attributes=attributes(c, data),
        cancelled=status == "Canceled",
        raw=data,
    )


def address(c: Connector, data: dict, prefix: str) -> Address:
    def get(name: str) -> str:
        return str(c.opt(data, prefix + name)).strip()

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
        email=str(c.opt(data, "BuyerEmailAddress")),
    )


def customer(c: Connector, data: dict) -> CustomerRef | None:
    """CA has no customer entity; the buyer's email is the stable key marketplaces give."""
    email = str(c.opt(data, "BuyerEmailAddress")).strip()
    if not email:
        return None
    return CustomerRef(external_id=email.lower(), name=address(c, data, "Billing").name, email=email)


def attributes(c: Connector, data: dict) -> dict[str, Any]:
    values = {name: c.opt(data, field, None) for name, field in ORDER_ATTRIBUTES.items()}
    tags = [tag.strip() for tag in str(c.opt(data, "OrderTags")).split(",") if tag.strip()]
    return {name: value for name, value in values.items() if value not in (None, "")} | ({"tags": tags} if tags else {})


def order_line(c: Connector, item: Any, where: str) -> OrderLine:
    item_id = c.field(item, "ID", where)
    at = f"{where} item {item_id}"
    parts = tuple(
        BundlePart(
            sku=str(c.field(part, "Sku", f"{at} bundle component")),
            quantity=c.integer(c.field(part, "Quantity", f"{at} bundle component"), "Quantity", at),
            product_id=str(c.opt(part, "ProductID")),
        )
        for part in c.opt(item, "BundleComponents", [])
    )
    return OrderLine(
        external_id=str(item_id),
        sku=str(item.get("Sku") or item.get("SKU") or c.field(item, "Sku", at)),
        quantity=c.integer(c.field(item, "Quantity", at), "Quantity", at),
        unit_price=c.decimal(c.opt(item, "UnitPrice", 0), "UnitPrice", at),
        title=str(c.opt(item, "Title")),
        product_id=str(c.opt(item, "ProductID")),
        is_bundle=bool(parts),
        bundle_parts=parts,
    )


def shipments(c: Connector, data: dict) -> list[Shipment]:
    """The order's fulfillments that carry a tracking number. `external_id` is the SellerFulfillmentID the
    hub sent (its own shipment id) when there is one, else CA's fulfillment ID."""
    order_id = str(c.field(data, "ID", "an order"))
    where = f"order {order_id}"
    skus = {str(c.field(i, "ID", where)): str(i.get("Sku") or i.get("SKU") or "") for i in c.opt(data, "Items", [])}
    complete = c.opt(data, "ShippingStatus") == "Shipped"
    found = []
    for fulfillment in c.field(data, "Fulfillments", where, kind=list):
        at = f"{where} fulfillment {c.field(fulfillment, 'ID', where)}"
        if not c.opt(fulfillment, "TrackingNumber") or c.opt(fulfillment, "DeliveryStatus") == "Canceled":
            continue
        lines = tuple(
            ShipmentLine(
                line_ref=str(c.field(row, "OrderItemID", at)),
                sku=skus.get(str(row.get("OrderItemID")), ""),
                quantity=c.integer(c.field(row, "Quantity", at), "Quantity", at),
            )
            for row in c.opt(fulfillment, "Items", [])
        )
        found.append(
            Shipment(
                external_id=str(c.opt(fulfillment, "SellerFulfillmentID") or fulfillment["ID"]),
                order_number=order_id,
                tracking_number=str(fulfillment["TrackingNumber"]),
                carrier=str(c.opt(fulfillment, "ShippingCarrier")),
                service=str(c.opt(fulfillment, "ShippingClass")),
                warehouse=str(c.opt(fulfillment, "DistributionCenterID")),
                shipped_at=c.timestamp(fulfillment.get("ShippedDateUtc"), "ShippedDateUtc", at),
                lines=lines,
                order_complete=complete,
                updated_at=c.timestamp(fulfillment.get("UpdatedDateUtc"), "UpdatedDateUtc", at),
                channel_ref=str(fulfillment["ID"]),
            )
        )
    return found


def listing(c: Connector, data: Any) -> Listing:
    product_id = c.field(data, "ID", "a product")
    where = f"product {product_id}"
    identifiers = [str(c.opt(data, name)) for name in ("EAN", "MPN", "ASIN") if c.opt(data, name)]
    return Listing(
        sku=str(c.field(data, "Sku", where)),
        product_id=str(product_id),
        upc=str(c.opt(data, "UPC")),
        title=str(c.opt(data, "Title")),
        data={
            "attributes": {str(c.field(a, "Name", where)): c.opt(a, "Value") for a in c.opt(data, "Attributes", [])},
            "images": [str(c.field(i, "Url", where)) for i in c.opt(data, "Images", [])],
            "labels": [str(c.field(label, "Name", where)) for label in c.opt(data, "Labels", [])],
            "aliases": identifiers,
            "brand": c.opt(data, "Brand"),
            "bundle_type": c.opt(data, "BundleType"),
            "is_parent": bool(c.opt(data, "IsParent", False)),
            "parent_product_id": str(c.opt(data, "ParentProductID")),
        },
        updated_at=c.timestamp(data.get("UpdateDateUtc"), "UpdateDateUtc", where),
    )


def dc_quantities(c: Connector, data: Any) -> list[ChannelQuantity]:
    product_id = c.field(data, "ID", "a product")
    where = f"product {product_id}"
    sku = str(c.field(data, "Sku", where))
    return [
        ChannelQuantity(
            sku=sku,
            warehouse_id=str(c.field(row, "DistributionCenterID", where)),
            quantity=c.integer(c.field(row, "AvailableQuantity", where), "AvailableQuantity", where),
            product_id=str(product_id),
        )
        for row in c.field(data, "DCQuantities", where, kind=list)
    ]


def warehouse(c: Connector, data: Any) -> Warehouse:
    dc_id = c.field(data, "ID", "a distribution center")
    return Warehouse(
        external_id=str(dc_id),
        name=str(c.opt(data, "Name") or c.opt(data, "Code") or dc_id),
        code=str(c.opt(data, "Code")),
        active=not c.opt(data, "IsDeleted", False),
    )
