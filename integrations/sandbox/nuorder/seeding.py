"""NuORDER state built from the World: products (one per style and colour, sizes with UPCs), warehouses,
companies, approved orders whose line items carry every size of the style (unordered sizes at zero),
and ATS already on NuORDER for the `default` warehouse."""

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from integrations.sandbox.seed import World, WorldItem, WorldOrder

SEASON = "FW26"
ONE_SIZE = "OS"  # the size of a product that has none (general merchandise, bundles)
# (name used in inventory payloads, code, description); the internal warehouse each mirrors.
WAREHOUSES = (("default", "MAIN", "Main warehouse"), ("east", "EAST", "East coast DC"))
STATUS_BY_INDEX = {2: "pending", 5: "processed"}  # the others are approved


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Ids:
    """Mongo-like 24-hex ids, deterministic per prefix."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = defaultdict(int)

    def new(self, prefix: str) -> str:
        self.counters[prefix] += 1
        return f"{prefix}{self.counters[prefix]:0{24 - len(prefix)}x}"


def product_key(item: WorldItem) -> tuple[str, str]:
    return item.item_number, item.color_code


def build_products(world: World, ids: Ids, at: str) -> dict[str, dict[str, Any]]:
    grouped: dict[tuple[str, str], list[WorldItem]] = defaultdict(list)
    for item in world.items:
        grouped[product_key(item)].append(item)
    products = {}
    for (style, color), items in grouped.items():
        first = items[0]
        name = first.description.rsplit(" ", 1)[0] if first.size else first.description
        product = new_product(ids, at, style=style, color=color, name=name, active=first.active)
        product["external_id"] = "-".join(p for p in (style, color) if p)
        product["pricing"] = {"USD": {"wholesale": float(first.wholesale_price), "retail": float(first.retail_price)}}
        product["sizes"] = [{"size": i.size or ONE_SIZE, "upc": i.upc} for i in items]
        products[product["_id"]] = product
    for listing in world.listings:
        if listing.expect == "unmapped":  # on NuORDER, unknown to the fulfillment system
            product = new_product(ids, at, style=listing.sku, color="", name=listing.title, active=True)
            product["sizes"] = [{"size": ONE_SIZE, "upc": listing.upc}]
            products[product["_id"]] = product
    return products


def new_product(ids: Ids, at: str, *, style: str, color: str, name: str, active: bool) -> dict[str, Any]:
    return {
        "_id": ids.new("6a"),
        "style_number": style,
        "color": color,
        "color_code": color,
        "season": SEASON,
        "name": name,
        "external_id": "",
        "active": active,
        "archived": not active,
        "cancelled": False,
        "pricing": {},
        "sizes": [],
        "warehouses": [],
        "images": [],
        "created_on": at,
        "modified_on": at,
    }


def build_inventory(world: World, products: dict[str, dict[str, Any]]) -> dict[tuple, int]:
    """ATS on NuORDER for `default`, as last pushed: the world's available stock in MAIN."""
    by_upc = {item.upc: item for item in world.items}
    inventory = {}
    for product_id, product in products.items():
        for size in product["sizes"]:
            item = by_upc.get(size["upc"])
            if item is not None:
                on_hand, allocated = world.stock.get((item.sku, "MAIN"), (0, 0))
                inventory[(product_id, "default", False, "immediate", size["size"])] = on_hand - allocated
    return inventory


def build_warehouses(ids: Ids) -> list[dict[str, Any]]:
    """The brand's warehouses, as set up in its settings (no API call lists them)."""
    return [warehouse(ids, name, code, text) for name, code, text in WAREHOUSES]


def warehouse(ids: Ids, name: str, code: str = "", text: str = "") -> dict[str, Any]:
    return {"_id": ids.new("6d"), "name": name, "code": code or name, "description": text, "active": True}


def build_companies(world: World, ids: Ids, at: str) -> dict[str, dict[str, Any]]:
    companies = {}
    for order in world.orders:
        code = company_code(order.customer)
        if code not in companies:
            companies[code] = {
                "_id": ids.new("6c"),
                "name": order.customer,
                "code": code,
                "currency_code": "USD",
                "buyer_email": order.email,
                "addresses": [],
                "created_on": at,
                "modified_on": at,
            }
    return companies


def company_code(customer: str) -> str:
    return "CUST" + customer.rsplit(" ", 1)[-1]


def order_json(
    order: WorldOrder,
    *,
    order_id: str,
    status: str,
    company: dict[str, Any],
    products_by_upc: dict[str, dict[str, Any]],
    world: World,
) -> dict[str, Any]:
    """A NuORDER order for a world order: one line item per product, every size, unordered ones at zero."""
    ordered: dict[str, dict[str, tuple[int, Decimal]]] = defaultdict(dict)
    products: dict[str, dict[str, Any]] = {}
    for line in order.lines:
        upc = world.item(line.item_sku).upc
        products[products_by_upc[upc]["_id"]] = products_by_upc[upc]
        ordered[products_by_upc[upc]["_id"]][upc] = (line.quantity, line.unit_price)
    line_items, total = [], Decimal("0")
    for product_id, by_upc in ordered.items():
        product = products[product_id]
        sizes = []
        for size in product["sizes"]:
            quantity, price = by_upc.get(size["upc"], (0, Decimal(str(product["pricing"]["USD"]["wholesale"]))))
            sizes.append({"size": size["size"], "upc": size["upc"], "quantity": quantity, "price": float(price)})
            total += quantity * price
        product_ref = {k: product[k] for k in ("_id", "style_number", "color", "color_code", "name")}
        # As real orders carry them: the warehouse the line ships from, at-once (not prebook), its ship window.
        window = {
            "ship_start": iso(order.placed_at + timedelta(days=14)),
            "ship_end": iso(order.placed_at + timedelta(days=44)),
        }
        line_items.append(
            {"product": product_ref, "warehouse": WAREHOUSES[0][0], "prebook": False, **window, "sizes": sizes}
        )
    address = _address(order)
    return {
        "_id": order_id,
        "order_number": order.number,
        "external_id": None,
        "status": status,
        "created_on": iso(order.placed_at),
        "modified_on": iso(order.placed_at + timedelta(minutes=5)),
        "edited": False,
        "currency_code": "USD",
        "total": float(total),
        "discount": 0,
        "customer_po_number": f"PO-{order.number}",
        "start_ship": iso(order.placed_at + timedelta(days=14)),
        "end_ship": iso(order.placed_at + timedelta(days=44)),
        "rep_name": "Sam Rep",
        "notes": "",
        "order_tags": [],
        "submitted_by": "web",
        "retailer": {
            "_id": company["_id"],
            "retailer_name": company["name"],
            "retailer_code": company["code"],
            "buyer_name": f"Buyer of {company['name']}",
            "buyer_email": order.email,
        },
        "billing_address": dict(address),
        "shipping_address": {**address, "code": "MAIN"},
        "line_items": line_items,
        "shipments": [],
    }


def _address(order: WorldOrder) -> dict[str, str]:
    if order.country == "US":
        return {
            "line_1": f"{order.number} Congress Ave",
            "city": "Austin",
            "state": "TX",
            "zip": "78701",
            "country": "USA",  # real portals send country names, not codes
        }
    return {
        "line_1": f"{order.number} King St W",
        "city": "Toronto",
        "state": "ON",
        "zip": "M5V 1J2",
        "country": "Canada",
    }
