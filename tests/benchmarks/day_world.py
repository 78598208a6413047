"""The world of bench_day: a large brand's catalog, stock and a day of orders on the three sales channels'
sandboxes, the hub's side of it (channels, catalog, mappings, warehouse pairings, policies, schedules), the
fulfillment system's warehouse (a thread shipping every order it receives, in one or more parcels), and the
checks of the final state.

Everything is deterministic: after `sandboxes_seed` the same orders have the same IDs, so the floor replays
the hub's calls against a sandbox in the state the hub found.
"""

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from integrations.sandbox.extensiv import state as extensiv_state
from integrations.sandbox.nuorder import seeding as nuorder_seeding
from integrations.sandbox.registry import Sandboxes
from integrations.sandbox.seed import EPOCH, World, WorldItem, WorldListing, WorldOrder, WorldOrderLine

SALES = ("channeladvisor", "nuorder", "extensiv")
COLORS = ("RED", "BLUE", "BLK")
SIZES = ("S", "M", "L")
LINES = 5
# The flows each channel runs on its schedules: everything a day needs from download to upload.
FLOWS = {
    "oms": ["orders.submit", "shipments.download", "inventory.download"],
    "channeladvisor": ["orders.download", "orders.acknowledge", "shipments.upload", "inventory.upload"],
    "nuorder": ["orders.download", "orders.acknowledge", "shipments.upload", "inventory.upload"],
    "extensiv": ["orders.download", "shipments.upload", "inventory.upload"],
}


@dataclass(frozen=True)
class DaySize:
    listings: int  # listings on all three sales channels together (each channel lists every item)
    orders: int  # orders on all three sales channels together, LINES lines each

    @property
    def items(self) -> int:
        return max(LINES, self.listings // len(SALES))

    @property
    def orders_per_channel(self) -> int:
        return max(1, self.orders // len(SALES))


def day_world(size: DaySize) -> World:
    """`size.items` colour/size items (every one sellable, listed on each channel by SKU and UPC) and their
    stock in three warehouses; no seeded orders (the day's orders are added by `sandboxes_seed`)."""
    world = World(warehouses=[("MAIN", "Main warehouse"), ("EAST", "East coast"), ("FBA", "Amazon FBA")])
    n = 0
    style = 0
    while n < size.items:
        number = f"D{style:05d}"
        for color in COLORS:
            for size_code in SIZES:
                if n >= size.items:
                    break
                upc = f"{600000000000 + n:012d}"
                item = WorldItem(
                    sku=f"{number}-{color}-X-{size_code}",
                    item_number=number,
                    color_code=color,
                    prepack_run="X",
                    size=size_code,
                    upc=upc,
                    description=f"Style {number} {color.title()} {size_code}",
                    wholesale_price=Decimal(10 + style % 20),
                    retail_price=Decimal(20 + style % 40),
                )
                world.items.append(item)
                world.listings.append(
                    WorldListing(item.sku, 100001 + n, upc, item.description, "sku_pattern", item.sku)
                )
                for w, (code, _) in enumerate(world.warehouses):
                    on_hand = 20 + (n * 7 + w * 3) % 80
                    world.stock[(item.sku, code)] = (on_hand, (n + w) % 4)
                n += 1
        style += 1
    return world


def day_orders(world: World, size: DaySize, channel: int) -> list[WorldOrder]:
    """The day's orders of one sales channel: LINES lines of distinct items each, quantities 1-3."""
    items = world.items
    orders = []
    for i in range(size.orders_per_channel):
        start = (i * 7 + channel * 13) * LINES
        picked = [items[(start + k) % len(items)] for k in range(LINES)]
        lines = tuple(WorldOrderLine(it.sku, it.sku, 1 + (i + k) % 3, it.retail_price) for k, it in enumerate(picked))
        orders.append(
            WorldOrder(
                number=f"DAY{channel}-{i:06d}",
                placed_at=EPOCH + timedelta(seconds=i),
                customer=f"Customer {i % 4 + 1}",
                email=f"buyer{i % 4 + 1}@example.com",
                country="US",
                lines=lines,
            )
        )
    return orders


def sandboxes_seed(sandboxes: Sandboxes, size: DaySize) -> None:
    """Every sandbox back to its seeded state (limits off, journals empty), then the day's orders added."""
    for kind, server in sandboxes.servers.items():
        api = server.api
        with api.lock:
            api.clear_faults()
            api.calls.clear()
            api.journal.clear()
            api.reset()
            if kind == "channeladvisor":
                api.rate_limit_per_minute = 10**9  # a day's volume in minutes: the sandbox's 2,000/min would refuse
                api.max_concurrent = 10**6
    world = sandboxes.world
    for channel, kind in enumerate(SALES):
        api = sandboxes.api(kind)
        with api.lock:
            orders = day_orders(world, size, channel)
            if kind == "channeladvisor":
                for order in orders:
                    api.add_order(
                        [(line.listing_sku, line.quantity) for line in order.lines], site_order_id=order.number
                    )
            elif kind == "nuorder":
                _nuorder_orders(api, orders)
            else:
                _extensiv_orders(api, orders)


def _nuorder_orders(api: Any, orders: list[WorldOrder]) -> None:
    """What the sandbox's `_store_order` does, for many orders at once (it indexes every product per call)."""
    at = nuorder_seeding.iso(EPOCH)
    for code, company in nuorder_seeding.build_companies(World(orders=orders), api.ids, at).items():
        api.companies.setdefault(code, company)
    by_upc = {s["upc"]: p for p in api.products.values() for s in p["sizes"]}
    for order in orders:
        company = api.companies[nuorder_seeding.company_code(order.customer)]
        stored = nuorder_seeding.order_json(
            order, order_id=api.ids.new("6b"), status="approved", company=company, products_by_upc=by_upc,
            world=api.world,
        )  # fmt: skip
        api.orders[stored["_id"]] = stored


def _extensiv_orders(api: Any, orders: list[WorldOrder]) -> None:
    """What the sandbox's `add_order` does, for many orders at once (its helper reads every listing per call)."""
    for n, order in enumerate(orders):
        api._tick()
        order_id = 90001 + n
        api.orders[order_id] = extensiv_state.order_payload(
            order_id=order_id,
            number=order.number,
            placed_at=api.clock,
            modified=api.clock,
            status="AWAITING_SHIPMENT",
            warehouse="MAIN",
            lines=[(line.listing_sku, line.item_sku, line.quantity, line.unit_price) for line in order.lines],
            products=api.products,
        )


@dataclass
class Warehouse:
    """The fulfillment system's warehouse: ships every order the hub submits, as soon as it arrives; one order
    in three in two parcels (its first lines, then the rest)."""

    api: Any
    stop: threading.Event = field(default_factory=threading.Event)
    shipped: int = 0
    parcels: int = 0
    _seen: int = 0

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, name="day-warehouse", daemon=True)

    def start(self) -> "Warehouse":
        self.thread.start()
        return self

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)

    def _run(self) -> None:
        while not self.stop.wait(0.02):
            self.ship_new()

    def ship_new(self) -> None:
        with self.api.lock:
            numbers = list(self.api.orders)[self._seen :]
            self._seen += len(numbers)
            for number in numbers:
                order = self.api.orders[number]
                if order["status"] != "open":
                    continue
                refs = [line["line_ref"] for line in order["lines"]]
                if self.shipped % 3 == 0 and len(refs) > 1:
                    half = len(refs) // 2
                    first = {ref: line["quantity"] for ref, line in zip(refs, order["lines"], strict=True)}
                    self.api.ship(number, {ref: first[ref] for ref in refs[:half]})
                    self.parcels += 1
                self.api.ship(number)
                self.parcels += 1
                self.shipped += 1
