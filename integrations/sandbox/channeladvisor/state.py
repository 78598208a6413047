"""The sandbox ChannelAdvisor account's state, seeded from the World, and the helpers that move it.

Entities are stored whole (every field and every navigation collection) in ChannelAdvisor's own field
names; the API module shapes them per `$expand`/`$select`. Times come from a fake clock that starts after
the last seeded order and moves one second per change, so `UpdatedDateUtc ge …` works deterministically.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from integrations.sandbox.channeladvisor.entities import (
    DC_IDS,
    PROFILE_ID,
    distribution_centers,
    fulfillment_shell,
    order_shell,
    product_shell,
)
from integrations.sandbox.channeladvisor.odata import format_date
from integrations.sandbox.seed import EPOCH, World, WorldOrder

OUTLET_PROFILE_ID = 12345679
PROFILES = (
    {"ID": PROFILE_ID, "AccountName": "Switchyard Sandbox", "CompanyName": "Switchyard Demo Co", "IsActive": True},
    {
        "ID": OUTLET_PROFILE_ID,
        "AccountName": "Switchyard Outlet",
        "CompanyName": "Switchyard Demo Co",
        "IsActive": True,
    },
)
# The account's carrier → classes list: Ship refuses anything else with 400, as CA does.
CARRIERS: dict[str, tuple[str, ...]] = {
    "UPS": ("Ground", "2nd Day Air", "Next Day Air"),
    "FedEx": ("Ground", "Home Delivery", "2Day", "Standard Overnight"),
    "USPS": ("Priority", "First Class", "Ground Advantage"),
    "DHL": ("Express",),
}
REQUESTED = (("UPS", "Ground"), ("FedEx", "2Day"), ("USPS", "Priority"))
SITES = ((640, "Amazon Seller Central - US"), (578, "eBay Fixed Price"), (1207, "Walmart Marketplace"))
SHIPPED_STATUSES = frozenset({"Complete", "InTransit", "ReadyForPickup", "Confirmed", "ThirdPartyManaged"})
ADDRESSES = {
    "US": ("1 Main St", "Durham", "NC", "27701"),
    "CA": ("100 King St W", "Toronto", "ON", "M5H 1A1"),
}


class AccountState:
    """Mixin of ChannelAdvisorSandbox: the seeded account and the helpers tests call to move it."""

    world: World

    def seed(self) -> None:
        self._ids = {"order": count(200001), "item": count(500001), "fulfillment": count(900001)}
        self._ids["fulfillment_item"] = count(950001)
        self.orders: dict[int, dict] = {}
        self.products: dict[int, dict] = {}
        self.quantities: dict[tuple[int, int], int] = {}
        self.distribution_centers = {dc["ID"]: dc for dc in distribution_centers(self.world)}
        for n, listing in enumerate(self.world.listings):
            self.products[listing.product_id] = self._product(n, listing)
        latest = max((o.placed_at for o in self.world.orders), default=EPOCH)
        self.clock = latest + timedelta(minutes=10)
        for n, order in enumerate(self.world.orders):
            self._seed_order(n, order)
        # One order of the channel's own with the bundle listing, so bundle splitting always has a case.
        bundle = [(lst.sku, 2) for lst in self.world.listings if lst.item_sku == "KIT1"][:1]
        if bundle:
            self.add_order([*bundle, (self.world.listings[0].sku, 1)], site_order_id=str(5001 + len(self.world.orders)))

    # Helpers for tests and the demo.

    def advance(self, seconds: float = 60) -> datetime:
        """Move the fake clock on; whatever changes afterwards is stamped after the returned instant."""
        self.clock += timedelta(seconds=seconds)
        return self.clock

    def add_order(
        self,
        lines: list[tuple[str, int]],
        *,
        profile_id: int = PROFILE_ID,
        site_order_id: str | None = None,
        dc: str = "MAIN",
        **fields: Any,
    ) -> dict:
        """A new unshipped order for (listing SKU, quantity) lines; bundle SKUs get their BundleComponents."""
        order_id = next(self._ids["order"])
        now = self._stamp()
        order = order_shell(order_id, profile_id, site_order_id or f"SB-{order_id}", now)
        for sku, quantity in lines:
            order["Items"].append(self._order_item(order, self._product_by_sku(sku), quantity))
        order["TotalPrice"] = float(sum(Decimal(str(i["UnitPrice"])) * i["Quantity"] for i in order["Items"]))
        dc_id: Any = DC_IDS.get(dc, dc)  # a code the sandbox does not know passes through as the id
        order["Fulfillments"].append(self._pending_fulfillment(order, dc_id))
        order.update(fields)
        self.orders[order_id] = order
        return order

    def add_marketplace_fulfilled_order(self, lines: list[tuple[str, int]], **fields: Any) -> dict:
        """An Amazon FBA order as CA shows it: DistributionCenterTypeRollup ExternallyManaged, its fulfillment at
        the externally managed FBA distribution center and in ThirdPartyManaged hands (nothing for the seller)."""
        order = self.add_order(lines, dc="FBA", SiteName="Amazon Seller Central - US", **fields)
        order |= {"DistributionCenterTypeRollup": "ExternallyManaged", "ShippingStatus": "ThirdPartyManaged"}
        for fulfillment in order["Fulfillments"]:
            fulfillment |= {"DeliveryStatus": "ThirdPartyManaged", "ExternalFulfillmentCenterCode": "PHX6"}
        return order

    def modify_order(self, order_id: int, **fields: Any) -> dict:
        """Change order fields (e.g. PaymentStatus="Submitted"); UpdatedDateUtc moves on."""
        order = self.orders[order_id]
        order.update(fields, UpdatedDateUtc=format_date(self._stamp()))
        return order

    def cancel_order(self, order_id: int) -> dict:
        return self.modify_order(order_id, ShippingStatus="Canceled")

    def order_by_number(self, site_order_id: str) -> dict:
        return next(o for o in self.orders.values() if o["SiteOrderID"] == site_order_id)

    def shipped_quantity(self, order_id: int, order_item_id: int) -> int:
        return sum(
            row["Quantity"]
            for f in self.orders[order_id]["Fulfillments"]
            if f["DeliveryStatus"] in SHIPPED_STATUSES
            for row in f["Items"]
            if row["OrderItemID"] == order_item_id
        )

    def add_product(self, sku: str, **fields: Any) -> dict:
        """A product with no listing in the World (e.g. a SKU differing only in case, or a duplicate)."""
        product_id = max(self.products, default=7000) + 1
        product = product_shell(product_id, sku, fields.pop("Title", sku), self._stamp())
        product.update(fields)
        self.products[product_id] = product
        return product

    def product_id(self, sku: str) -> int:
        """The one product with exactly this SKU (case-sensitive)."""
        (product_id,) = [pid for pid, p in self.products.items() if p["Sku"] == sku]
        return product_id

    def dc_id(self, code: str) -> int:
        return next(dc["ID"] for dc in self.distribution_centers.values() if dc["Code"] == code)

    def quantity(self, sku: str, dc_code: str) -> int:
        return self.quantities.get((self.product_id(sku), self.dc_id(dc_code)), 0)

    def set_quantity(self, sku: str, dc_code: str, quantity: int) -> None:
        self.quantities[(self.product_id(sku), self.dc_id(dc_code))] = quantity
        self.products[self.product_id(sku)]["QuantityUpdateDateUtc"] = format_date(self._stamp())

    # Seeding.

    def _stamp(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    def _product(self, n: int, listing: Any) -> dict:
        stamp = EPOCH - timedelta(days=1) + timedelta(minutes=n)
        product = product_shell(listing.product_id, listing.sku, listing.title, stamp)
        product["UPC"] = listing.upc
        item = self.world.item(listing.item_sku) if listing.item_sku else None
        if item:
            product.update(Brand="Switchyard", RetailPrice=float(item.retail_price), Cost=float(item.wholesale_price))
            for name, value in (("Color", item.color_code), ("Size", item.size), ("Style", item.item_number)):
                if value:
                    product["Attributes"].append(
                        {"ProductID": listing.product_id, "ProfileID": PROFILE_ID}
                        | {
                            "Name": name,
                            "Value": value,
                        }
                    )
            for code, dc_id in DC_IDS.items():
                on_hand, allocated = self.world.stock.get((item.sku, code), (0, 0))
                self.quantities[(listing.product_id, dc_id)] = max(0, on_hand - allocated)
        if item and item.components:
            product["BundleType"] = "BundleItem"
            for component_sku, quantity in item.components:
                part = next(lst for lst in self.world.listings if lst.item_sku == component_sku)
                product["BundleComponents"].append(
                    {"ProductID": listing.product_id, "ComponentID": part.product_id}
                    | {"ComponentSku": part.sku, "Quantity": quantity}
                )
        return product

    def _seed_order(self, n: int, world_order: WorldOrder) -> None:
        order_id = next(self._ids["order"])
        placed = world_order.placed_at
        profile = OUTLET_PROFILE_ID if n % 4 == 3 else PROFILE_ID
        order = order_shell(order_id, profile, world_order.number, placed + timedelta(minutes=5))
        first, _, last = world_order.customer.partition(" ")
        line1, city, state, postal = ADDRESSES.get(world_order.country, ADDRESSES["US"])
        carrier, klass = REQUESTED[n % len(REQUESTED)]
        site_id, site_name = SITES[n % len(SITES)]
        for prefix in ("Shipping", "Billing"):
            order |= {f"{prefix}FirstName": first, f"{prefix}LastName": last, f"{prefix}AddressLine1": line1}
            order |= {f"{prefix}City": city, f"{prefix}StateOrProvince": state, f"{prefix}PostalCode": postal}
            order |= {f"{prefix}Country": world_order.country, f"{prefix}DaytimePhone": f"555-010{n % 10}"}
        order |= {"BuyerEmailAddress": world_order.email, "CreatedDateUtc": format_date(placed)}
        order |= {"CheckoutDateUtc": format_date(placed), "PaymentDateUtc": format_date(placed)}
        order |= {"RequestedShippingCarrier": carrier, "RequestedShippingClass": klass}
        order |= {"SiteID": site_id, "SiteName": site_name, "OrderTags": "VIP" if n % 3 == 0 else ""}
        order |= {"PublicNotes": "Gift wrap please" if n % 4 == 1 else "", "PrivateNotes": ""}
        for line in world_order.lines:
            item = self._order_item(order, self._product_by_sku(line.listing_sku), line.quantity)
            item["UnitPrice"] = float(line.unit_price)
            order["Items"].append(item)
        order["TotalPrice"] = float(sum(line.unit_price * line.quantity for line in world_order.lines))
        order["Fulfillments"].append(self._pending_fulfillment(order, DC_IDS["EAST" if n % 3 == 2 else "MAIN"]))
        self.orders[order_id] = order

    def _product_by_sku(self, sku: str) -> dict:
        """The first product with this SKU: from an index (seeding a large world adds many orders), checked, and
        rebuilt when products were added or changed since."""
        index: dict[str, dict] = self.__dict__.setdefault("_sku_index", {})
        product = index.get(sku)
        if product is None or product["Sku"] != sku or self.products.get(product["ID"]) is not product:
            index.clear()
            for p in self.products.values():
                index.setdefault(p["Sku"], p)
            product = index.get(sku)
            if product is None:
                raise StopIteration(sku)  # as the linear scan did
        return product

    def _order_item(self, order: dict, product: dict, quantity: int) -> dict:
        item_id = next(self._ids["item"])
        components = [
            {
                "OrderItemID": item_id,
                "ProfileID": order["ProfileID"],
                "OrderID": order["ID"],
                "ProductID": part["ComponentID"],
                "BundleProductID": product["ID"],
                "Sku": part["ComponentSku"],
                "BundleSku": product["Sku"],
                "Title": self.products[part["ComponentID"]]["Title"],
                "Quantity": part["Quantity"] * quantity,  # already multiplied, as CA reports it
                "FulfillmentItems": [],
            }
            for part in product["BundleComponents"]
        ]
        return {
            "ID": item_id,
            "ProfileID": order["ProfileID"],
            "OrderID": order["ID"],
            "ProductID": product["ID"],
            "SiteOrderItemID": f"{order['SiteOrderID']}-{item_id}",
            "Sku": product["Sku"],
            "Title": product["Title"],
            "Quantity": quantity,
            "UnitPrice": product["RetailPrice"] or 0.0,
            "TaxPrice": 0.0,
            "ShippingPrice": 0.0,
            "IsBundle": bool(components),
            "BundleComponents": components,
            "FulfillmentItems": [],
            "Promotions": [],
            "Adjustments": [],
        }

    def _pending_fulfillment(self, order: dict, dc_id: int) -> dict:
        """Every CA order is created with one fulfillment holding all its items, not yet shipped."""
        fulfillment = self._new_fulfillment(order, dc_id, order["UpdatedDateUtc"])
        for item in order["Items"]:
            fulfillment["Items"].append(self._fulfillment_item(fulfillment, item, item["Quantity"]))
        return fulfillment

    def _new_fulfillment(self, order: dict, dc_id: int, stamp: str) -> dict:
        return fulfillment_shell(next(self._ids["fulfillment"]), order, dc_id, stamp)

    def _fulfillment_item(self, fulfillment: dict, item: dict, quantity: int) -> dict:
        return {
            "ID": next(self._ids["fulfillment_item"]),
            "FulfillmentID": fulfillment["ID"],
            "OrderID": fulfillment["OrderID"],
            "OrderItemID": item["ID"],
            "ProductID": item["ProductID"],
            "Quantity": quantity,
            "BundleComponent": False,
        }
