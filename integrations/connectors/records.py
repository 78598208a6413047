"""Plain records that connectors return and take: no models, no raw JSON beyond `raw`. A record named like a
model ends in Record (OrderRecord, not orders.Order), so the code that turns one into the other needs no alias."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal


@dataclass(frozen=True)
class Address:
    name: str = ""
    company: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""
    phone: str = ""
    email: str = ""

    def is_complete(self) -> bool:
        return all((self.name or self.company, self.line1, self.city, self.postal_code, self.country))


@dataclass(frozen=True)
class CustomerRef:
    external_id: str
    name: str = ""
    email: str = ""
    code: str = ""


@dataclass(frozen=True)
class BundlePart:
    """A bundle component as the channel reports it (quantity already multiplied by the bundle line)."""

    sku: str
    quantity: int
    product_id: str = ""


# A listing's parts where the channel names a size by several fields (NuORDER: style, colour, size), kept in
# `Listing.data` / `ItemMapping.data` under this key as {"style": …, "color": …, "size": …}; auto-mapping compares
# them with an item's item number, colour code and size one by one, instead of splitting a SKU.
VARIANT_KEY = "variant"


@dataclass(frozen=True)
class OrderLineRecord:
    external_id: str
    sku: str
    quantity: int
    unit_price: Decimal = Decimal("0")
    title: str = ""
    product_id: str = ""
    upc: str = ""
    is_bundle: bool = False
    bundle_parts: tuple[BundlePart, ...] = ()
    # What a listing created from this line keeps as data (VARIANT_KEY); not part of the line itself.
    listing_data: dict[str, Any] = field(default_factory=dict, compare=False)
    # Keys the same listing may be stored under from before (NuORDER: the size's parts key once it has a UPC, the
    # dashed key of old): a listing found under one of them, for this product, takes `sku` and keeps its mapping.
    former_skus: tuple[str, ...] = field(default=(), compare=False)
    # The channel's own facts about the line, kept on it (NuORDER: warehouse, prebook, ship window, discounts).
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OrderRecord:
    external_id: str
    number: str
    status: str
    placed_at: datetime | None
    updated_at: datetime | None
    currency: str = "USD"
    total: Decimal = Decimal("0")
    ship_to: Address = field(default_factory=Address)
    bill_to: Address = field(default_factory=Address)
    shipping_method: str = ""
    customer: CustomerRef | None = None
    lines: tuple[OrderLineRecord, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)  # tags, site, notes, custom fields
    cancelled: bool = False
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class FulfillmentLine:
    line_ref: str
    sku: str
    quantity: int
    unit_price: Decimal = Decimal("0")


@dataclass(frozen=True)
class FulfillmentOrder:
    """An order as the hub submits it to the fulfillment system."""

    idempotency_key: str
    reference: str  # the channel's order number
    channel: str
    ship_to: Address
    bill_to: Address
    shipping_method: str
    lines: tuple[FulfillmentLine, ...]
    customer: CustomerRef | None = None
    currency: str = "USD"
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FulfillmentStatus:
    number: str
    status: str
    locked: bool


@dataclass(frozen=True)
class ShipmentLineRecord:
    line_ref: str  # for the fulfillment system: the hub's line reference; for a channel: its line id
    sku: str
    quantity: int


@dataclass(frozen=True)
class ShipmentRecord:
    external_id: str
    order_number: str  # the fulfillment order number (OMS) or the channel order id (upload)
    tracking_number: str
    carrier: str = ""
    service: str = ""
    invoice_number: str = ""
    warehouse: str = ""
    shipped_at: datetime | None = None
    lines: tuple[ShipmentLineRecord, ...] = ()
    order_complete: bool = False  # on upload: every line of the order is now shipped or cancelled
    updated_at: datetime | None = None
    channel_ref: str = ""  # read back from a sales channel: its own id for the shipment (CA's fulfillment ID)
    channel_warehouse: str = ""  # on upload: the channel warehouse it left from (external id), when one is paired
    parcels: tuple["ShipmentRecord", ...] = ()  # on a whole-order upload: every shipment (tracking) of the order


@dataclass(frozen=True)
class Listing:
    sku: str
    product_id: str = ""
    upc: str = ""
    title: str = ""
    data: dict[str, Any] = field(default_factory=dict)  # images, attributes, aliases
    updated_at: datetime | None = None


@dataclass(frozen=True)
class CatalogItem:
    sku: str
    item_number: str
    color_code: str = ""
    prepack_run: str = ""
    size: str = ""
    upc: str = ""
    description: str = ""
    wholesale_price: Decimal | None = None
    retail_price: Decimal | None = None
    active: bool = True
    components: tuple[tuple[str, int], ...] = ()  # (component sku, quantity) for bundles
    updated_at: datetime | None = None


@dataclass(frozen=True)
class StockLevelRecord:
    sku: str
    warehouse: str
    on_hand: int
    allocated: int
    available: int
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Supply:
    sku: str
    warehouse: str
    quantity: int
    expected_date: date | None
    purchase_order: str = ""
    updated_at: datetime | None = None  # lets the hub read supply incrementally (else it re-reads it all)


@dataclass(frozen=True)
class WarehouseRecord:
    external_id: str
    name: str
    code: str = ""
    active: bool = True


@dataclass(frozen=True)
class QuantityUpdate:
    sku: str
    warehouse_id: str
    quantity: int
    mode: Literal["absolute", "relative"] = "absolute"
    product_id: str = ""
    size: str = ""  # NuORDER pushes per style/size
    upc: str = ""
    incoming: tuple[tuple[date, int], ...] = ()  # NuORDER WIP buckets by purchase-order date


@dataclass(frozen=True)
class ChannelQuantity:
    sku: str
    warehouse_id: str
    quantity: int
    product_id: str = ""


@dataclass(frozen=True)
class QuantityResult:
    """One row of a batch quantity push: accepted, or refused with the channel's reason."""

    sku: str
    warehouse_id: str
    ok: bool
    error: str = ""


@dataclass(frozen=True)
class ProductSize:
    size: str
    upc: str = ""


@dataclass(frozen=True)
class Product:
    """A NuORDER product: one style in one colour, with its sizes."""

    style_number: str
    color: str
    name: str
    external_id: str
    season: str = ""
    active: bool = True
    wholesale: Decimal | None = None
    retail: Decimal | None = None
    currency: str = "USD"
    sizes: tuple[ProductSize, ...] = ()


@dataclass(frozen=True)
class CustomerRecord:
    external_id: str
    name: str
    code: str = ""
    currency: str = "USD"
    discount: Decimal = Decimal("0")
    billing_addresses: tuple[Address, ...] = ()
    shipping_addresses: tuple[Address, ...] = ()


@dataclass(frozen=True)
class UploadResult:
    """One row of a product or customer upload: the channel's id for it, or the channel's reason for refusing it."""

    external_id: str
    ok: bool
    channel_id: str = ""
    error: str = ""


@dataclass(frozen=True)
class BadRecord:
    """A record a download could not parse, yielded in its place (instead of raising) so the rest carry on;
    the flow sends it to the issue queue. `reason` names the field, like BadResponse does."""

    external_id: str
    reason: str
    raw: Any = None


@dataclass(frozen=True)
class SkippedRecord:
    """A record a download leaves out on purpose (a channel setting says so), yielded in its place so the
    flow counts it skipped and says why (`reason`), rather than the run reading fewer than the channel holds."""

    external_id: str
    reason: str
    updated_at: datetime | None = None
