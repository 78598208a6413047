"""The Extensiv Order Manager sandbox's state, built from the World in OM's own payload shapes:
warehouses, products (master SKUs), listings (channel SKU -> master SKU), stock rows and orders."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from integrations.sandbox.seed import EPOCH, World, WorldOrder

WAREHOUSE_IDS = {"MAIN": 101, "EAST": 102, "FBA": 103}
THIRD_PARTY = frozenset({"FBA"})
SALES_CHANNELS = (
    {"salesChannelId": 11, "name": "Shopify", "type": "SHOPIFY", "active": True},
    {"salesChannelId": 12, "name": "Amazon", "type": "AMAZON", "active": True},
)
STOCK_LOCATION = "GLOBAL"  # OM's location name for stock kept as one figure per warehouse
CANCEL_REASON_TYPES = frozenset(
    {
        "NO_INVENTORY",
        "SHIPPING_ADDRESS_UNDELIVERABLE",
        "CUSTOMER_EXCHANGE",
        "BUYER_CANCELLED",
        "BUYER_HAS_NOT_PAID",
        "GENERAL_ADJUSTMENT",
        "CARRIER_CREDIT_DECISION",
        "RISK_ASSESSMENT_INFORMATION_NOT_VALID",
        "CUSTOMER_RETURN",
        "MERCHANDISE_NOT_RECEIVED",
        "OTHER",
    }
)
SHIP_METHOD = {"shippingProviderId": 2, "shippingCarrier": "UPS", "shippingServiceId": 7, "packageTypeId": 1}


def stamp(moment: datetime | None) -> str | None:
    """OM's date format: yyyy-MM-ddTHH:mm:ssZ, UTC."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def money(amount: Decimal, currency: str = "USD") -> dict[str, Any]:
    return {"amount": float(amount), "currency": currency}


def warehouses_seed(world: World) -> dict[int, dict]:
    return {
        WAREHOUSE_IDS[code]: {
            "warehouseId": WAREHOUSE_IDS[code],
            "name": name,
            "active": True,
            "type": "THIRD_PARTY_LOGISTICS" if code in THIRD_PARTY else "DIRECT_FULFILLMENT",
        }
        for code, name in world.warehouses
    }


def products_seed(world: World) -> dict[str, dict]:
    created = stamp(EPOCH - timedelta(days=30))
    return {
        item.sku: {
            "productId": 9001 + n,
            "masterSku": item.sku,
            "name": item.description,
            "type": "BUNDLE" if item.components else "CORE_PRODUCT",  # the bundle value is [I]
            "upc": item.upc or None,
            "mpn": item.item_number,
            "active": item.active,
            "createdDate": created,
            "modifiedDate": created,
            "mapPrice": money(item.retail_price),
            "vendorCost": money(item.wholesale_price),
        }
        for n, item in enumerate(world.items)
    }


def listings_seed(world: World, products: dict[str, dict]) -> dict[int, dict]:
    listings = {}
    for n, listing in enumerate(world.listings):
        product = products.get(listing.item_sku)
        listings[3001 + n] = {
            "listingId": 3001 + n,
            "listingSku": listing.sku,
            "masterSku": product["masterSku"] if product else None,  # listings OM could not match: no product
            "productId": product["productId"] if product else None,
            "salesChannelId": SALES_CHANNELS[0]["salesChannelId"],
            "active": True,
            "pushInventory": True,
            "fnSku": None,
            "created": stamp(EPOCH - timedelta(days=20)),
            "lastModified": stamp(EPOCH - timedelta(days=20)),
        }
    return listings


def stock_seed(world: World) -> dict[tuple[str, int], dict]:
    """One stock row per item per warehouse, bundles included (with 0 on hand, as OM asks integrators to).
    3PL warehouses keep stock at `GLOBAL`; direct ones at named bins (reference 3.6), one per product."""
    rows = {}
    for n, ((sku, code), (on_hand, allocated)) in enumerate(sorted(world.stock.items())):
        rows[(sku, WAREHOUSE_IDS[code])] = {
            "productStockId": 50001 + n,
            "onHandQuantity": on_hand,
            "lockedQuantity": allocated,
            "inTransitQuantity": 0,
            "location": STOCK_LOCATION if code in THIRD_PARTY else f"{code}-{chr(65 + n % 3)}{1 + n % 7:02d}",
        }
    return rows


def orders_seed(world: World, products: dict[str, dict]) -> dict[int, dict]:
    orders = {}
    count = len(world.orders)
    for n, world_order in enumerate(world.orders):
        order_id = 90001 + n
        status = "CANCELLED" if n == count - 1 else "AWAITING_SHIPMENT"
        warehouse = "EAST" if n % 3 == 2 else "MAIN"
        lines = [(line.listing_sku, line.item_sku, line.quantity, line.unit_price) for line in world_order.lines]
        if n == 0 and not any(item_sku == "KIT1" for _, item_sku, _, _ in lines) and "KIT1" in products:
            lines.append(("KIT1", "KIT1", 1, world.item("KIT1").retail_price))  # every world has a bundle line
        order = order_payload(
            order_id=order_id,
            number=world_order.number,
            placed_at=world_order.placed_at,
            modified=world_order.placed_at + timedelta(minutes=5),
            status=status,
            warehouse=warehouse,
            lines=lines,
            products=products,
            buyer=world_order,
            sales_channel=SALES_CHANNELS[n % 2],
        )
        if status == "CANCELLED":
            order["cancelReason"] = "Buyer changed their mind"
        orders[order_id] = order
    return orders


def order_payload(
    *,
    order_id: int,
    number: str,
    placed_at: datetime,
    modified: datetime,
    status: str,
    warehouse: str,
    lines: list[tuple[str, str, int, Decimal]],  # (listing sku, master sku, quantity, unit price)
    products: dict[str, dict],
    buyer: WorldOrder | None = None,
    sales_channel: dict | None = None,
) -> dict[str, Any]:
    items = [
        _order_item(order_id * 10 + k, listing_sku, products.get(master_sku), quantity, price)
        for k, (listing_sku, master_sku, quantity, price) in enumerate(lines, 1)
    ]
    total = sum((Decimal(str(i["unitPrice"]["amount"])) * i["quantityOrdered"] for i in items), Decimal("0"))
    name = buyer.customer if buyer else "Walk-in Buyer"
    email = buyer.email if buyer else "buyer@example.com"
    return {
        "orderId": order_id,
        "orderNumber": number,
        "orderDate": stamp(placed_at),
        "createdDate": stamp(placed_at),
        "modifiedDate": stamp(modified),
        "paymentDate": stamp(placed_at),
        "orderStatus": status,
        "orderType": "REGULAR",
        "currency": "USD",
        "orderTotal": money(total),
        "orderItemTotal": money(total),
        "discount": money(Decimal("0")),
        "shippingCost": money(Decimal("0")),
        "salesChannel": dict(sales_channel or SALES_CHANNELS[0]),
        "fulfillmentSource": {"warehouseId": WAREHOUSE_IDS[warehouse], "name": warehouse},
        "shipName": name,
        "shipCompany": None,
        "shipEmail": email,
        "shipPhone": "555-0100",
        "shipAddress1": f"{order_id % 1000} Main St",
        "shipAddress2": None,
        "shipAddress3": None,
        "shipCity": "Durham",
        "shipState": "NC",
        "shipZipCode": "27701",
        "shipCountry": buyer.country if buyer else "US",
        "shipMethod": dict(SHIP_METHOD),
        "requestedShippingService": "UPS Ground",
        "customer": {"customerId": _customer_id(name), "name": name, "companyName": None, "emailAddresses": [email]},
        "internalNotes": None,
        "notesFromBuyer": "Leave at the door" if order_id % 2 else None,
        "cancelReason": None,
        "labels": ["wholesale"] if order_id % 3 == 0 else [],
        "customField1": None,
        "shipment": None,
        "shipments": [],
        "orderItems": items,
    }


def _customer_id(name: str) -> int:
    suffix = name.rsplit(" ", 1)[-1]
    return 500 + int(suffix) if suffix.isdigit() else 500


def _order_item(item_id: int, listing_sku: str, product: dict | None, quantity: int, price: Decimal) -> dict:
    return {
        "orderItemId": item_id,
        "listingSku": listing_sku,
        "listingName": product["name"] if product else listing_sku,
        "quantityOrdered": quantity,
        "unitPrice": money(price),
        "tax": money(Decimal("0")),
        "discount": money(Decimal("0")),
        "notes": None,
        "product": None
        if product is None
        else {
            "productId": product["productId"],
            "masterSku": product["masterSku"],
            "name": product["name"],
            "productType": product["type"],
            "upc": product["upc"],
            "mpn": product["mpn"],
        },
    }
