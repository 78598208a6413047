"""A deterministic world every sandbox is seeded from, so the channels and the fulfillment system agree:
items and bundles in the fulfillment system, listings on the channels that match them (by SKU pattern
or UPC) or don't, warehouses, stock, incoming supply, and orders."""

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

EPOCH = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
COLORS = ("RED", "BLUE", "BLK")
SIZES = ("S", "M", "L")


@dataclass(frozen=True)
class WorldItem:
    sku: str
    item_number: str
    color_code: str = ""
    prepack_run: str = ""
    size: str = ""
    upc: str = ""
    description: str = ""
    wholesale_price: Decimal = Decimal("10.00")
    retail_price: Decimal = Decimal("20.00")
    active: bool = True
    components: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class WorldListing:
    """A channel listing; `expect` says how auto-mapping should treat it (for tests and the demo)."""

    sku: str
    product_id: int
    upc: str
    title: str
    expect: str  # "sku_pattern" | "upc" | "conflict" | "unmapped" | "general"
    item_sku: str = ""


@dataclass(frozen=True)
class WorldOrderLine:
    listing_sku: str
    item_sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class WorldOrder:
    number: str
    placed_at: datetime
    customer: str
    email: str
    country: str
    lines: tuple[WorldOrderLine, ...]


@dataclass
class World:
    items: list[WorldItem] = field(default_factory=list)
    warehouses: list[tuple[str, str]] = field(default_factory=list)  # (code, name)
    stock: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # (sku, wh) -> (on hand, allocated)
    supply: list[tuple[str, str, int, date, str]] = field(default_factory=list)  # sku, wh, qty, expected, PO
    listings: list[WorldListing] = field(default_factory=list)
    orders: list[WorldOrder] = field(default_factory=list)

    def item(self, sku: str) -> WorldItem:
        """The item of this SKU (the first, if two share it); indexed, so a world of 100,000 items seeds fast."""
        index: dict[str, WorldItem] | None = self.__dict__.get("_item_index")
        if index is None or self.__dict__.get("_item_count") != len(self.items):
            index = {}
            for i in self.items:
                index.setdefault(i.sku, i)
            self.__dict__["_item_index"], self.__dict__["_item_count"] = index, len(self.items)
        found = index.get(sku)
        if found is None or found.sku != sku:  # not indexed, or the list was edited in place
            return next(i for i in self.items if i.sku == sku)
        return found

    @property
    def sellable(self) -> list[WorldItem]:
        return [i for i in self.items if i.active and not i.components]


def build_world(*, styles: int = 6, orders: int = 8, seed: int = 7) -> World:
    rng = random.Random(seed)
    world = World(warehouses=[("MAIN", "Main warehouse"), ("EAST", "East coast"), ("FBA", "Amazon FBA")])
    upc = iter(range(400000000001, 500000000000))
    for s in range(styles):
        number = f"{1001 + s}"
        for color in COLORS[: 2 if s % 2 else 3]:
            for size in SIZES:
                world.items.append(
                    WorldItem(
                        sku=f"{number}-{color}-X-{size}",
                        item_number=number,
                        color_code=color,
                        prepack_run="X",
                        size=size,
                        upc=f"{next(upc):012d}",
                        description=f"Style {number} {color.title()} {size}",
                        wholesale_price=Decimal(10 + s),
                        retail_price=Decimal(20 + 2 * s),
                        active=not (s == styles - 1 and color == "BLK"),
                    )
                )
    for g in range(2):
        world.items.append(
            WorldItem(
                sku=f"GM{501 + g}", item_number=f"GM{501 + g}", upc=f"{next(upc):012d}", description=f"Tote {g + 1}"
            )
        )
    parts = world.sellable[:2]
    world.items.append(
        WorldItem(
            sku="KIT1",
            item_number="KIT1",
            upc=f"{next(upc):012d}",
            description="Starter kit",
            components=((parts[0].sku, 2), (parts[1].sku, 1)),
        )
    )
    _seed_stock(world, rng)
    _seed_listings(world, upc)
    _seed_orders(world, rng, orders)
    return world


def _seed_stock(world: World, rng: random.Random) -> None:
    for item in world.items:
        for code, _ in world.warehouses:
            on_hand = 0 if item.components else rng.randint(0, 60)
            world.stock[(item.sku, code)] = (on_hand, rng.randint(0, min(on_hand, 5)))
        if not item.components and rng.random() < 0.3:
            expected = (EPOCH + timedelta(days=rng.randint(5, 60))).date()
            world.supply.append((item.sku, "MAIN", rng.randint(10, 100), expected, f"PO-{rng.randint(100, 999)}"))


def _seed_listings(world: World, upc) -> None:
    product_id = iter(range(7001, 100000))
    for n, item in enumerate(i for i in world.items if i.active):
        if item.components:
            world.listings.append(
                WorldListing(item.sku, next(product_id), item.upc, item.description, "general", item.sku)
            )
        elif not item.color_code:
            world.listings.append(
                WorldListing(item.item_number, next(product_id), "", item.description, "general", item.sku)
            )
        elif n % 4 == 3:  # a channel SKU of its own; only the UPC identifies it
            world.listings.append(
                WorldListing(f"CH-{item.upc[-6:]}", next(product_id), item.upc, item.description, "upc", item.sku)
            )
        else:
            world.listings.append(
                WorldListing(item.sku, next(product_id), item.upc, item.description, "sku_pattern", item.sku)
            )
    first = world.sellable[0]
    # <Item>-<Color>-<Prepack>: every size of the colour matches, so auto-mapping must call it a conflict.
    world.listings.append(
        WorldListing(f"{first.item_number}-{first.color_code}-X", next(product_id), "", "Ambiguous", "conflict")
    )
    world.listings.append(
        WorldListing("NOPE-404", next(product_id), f"{next(upc):012d}", "Unknown listing", "unmapped")
    )


def _seed_orders(world: World, rng: random.Random, count: int) -> None:
    listings = [listing for listing in world.listings if listing.item_sku]
    for n in range(count):
        picked = rng.sample(listings, k=min(len(listings), 2 + n % 3))
        lines = tuple(
            WorldOrderLine(lst.sku, lst.item_sku, rng.randint(1, 4), world.item(lst.item_sku).retail_price)
            for lst in picked
        )
        world.orders.append(
            WorldOrder(
                number=f"{5001 + n}",
                placed_at=EPOCH + timedelta(hours=3 * n),
                customer=f"Customer {n % 4 + 1}",
                email=f"buyer{n % 4 + 1}@example.com",
                country="US" if n % 5 else "CA",
                lines=lines,
            )
        )
