"""The contract between flows and connectors: what a connector can do, as typed capabilities.

A connector class lists the capabilities it implements among its bases, e.g.
`class OmsConnector(Connector, FulfillmentTarget, ShipmentSource, ...)`, and that list is the whole of what it
supports: a flow declares the one capability it needs (`<app>/flows.py`) and runs on the connectors whose class
has it. Each capability names the exact methods, arguments and records (records.py) its flows call; mypy checks
every connector class against the capabilities it claims (each is `@final`, so a missing method is an error
there) and every flow against the capability it asked for.

A flow gets its typed connector with `capability(connector, OrderSource)`, which refuses, with a ChannelError
that names both, a connector whose class does not implement it.
"""

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeVar, cast

from integrations.connectors.records import (
    BadRecord,
    CatalogItem,
    ChannelQuantity,
    CustomerRecord,
    FulfillmentOrder,
    FulfillmentStatus,
    Listing,
    OrderRecord,
    Product,
    QuantityResult,
    QuantityUpdate,
    ShipmentRecord,
    SkippedRecord,
    StockLevelRecord,
    Supply,
    UploadResult,
    WarehouseRecord,
)
from integrations.http import ChannelError


class Capability(Protocol):
    """What every capability may rely on: the connector's label, validated settings, and close()."""

    label: str
    settings: dict[str, Any]

    def close(self) -> None: ...


# Sales channels: orders in, shipments and quantities out.


class OrderSource(Capability, Protocol):
    def orders_download(
        self, *, since: datetime | None, until: datetime | None = None
    ) -> Iterator[OrderRecord | BadRecord | SkippedRecord]:
        """Orders created or changed in the window, oldest first; a payload it cannot read is a BadRecord, an
        order a channel setting leaves out a SkippedRecord (counted skipped, with its reason)."""
        ...

    def order_get(self, external_id: str) -> OrderRecord:
        """One order by the channel's id (the admin's re-download)."""
        ...

    def orders_skipped(self) -> list[str]:
        """What the last orders_download left out on purpose and why, one line each, for the run summary."""
        return []


class OrderAcknowledger(Capability, Protocol):
    def order_acknowledge(self, *, external_id: str, fulfillment_number: str) -> None:
        """Tell the channel the order was taken, with the fulfillment system's order number."""
        ...


class CancellationSource(Capability, Protocol):
    def cancellations_download(self, *, since: datetime | None) -> Iterator[OrderRecord | str]:
        """Orders cancelled since `since`: the order (with its updated_at, which moves the cursor) or its id."""
        ...


class ShipmentSink(Capability, Protocol):
    corrects_shipments: ClassVar[bool]  # shipment_correct can change a shipment the channel already holds
    names_ship_from: ClassVar[bool]  # shipment_upload sends `channel_warehouse` (the flow pairs it, or says why not)
    # The channel's ship call marks the whole order shipped: the outbox sends one upload per order, once every
    # line is shipped or cancelled, carrying every parcel in `parcels` (Extensiv's external confirmation).
    confirms_whole_order: ClassVar[bool]
    # shipment_upload reads back each of its own side effects (NuORDER: add the shipment, then mark the order
    # shipped), so it is called again for a shipment the channel already holds, to finish what is missing.
    upload_reads_back: ClassVar[bool] = False
    # The channel's acknowledgement sets the same order status a shipment sets (NuORDER: `processed`, then
    # `shipped`): an order's shipments go only once it is acknowledged, so a late `processed` never lands on top
    # of `shipped` (when the channel's acknowledgement flow is on).
    ships_after_acknowledgement: ClassVar[bool] = False

    def shipments_list(self, external_id: str) -> list[ShipmentRecord]:
        """The shipments the channel holds for an order (read back before a retry, so nothing goes twice)."""
        ...

    def shipment_upload(self, *, external_id: str, shipment: ShipmentRecord) -> None:
        """Send one shipment of an order: its tracking and lines; the order is shipped when `order_complete`."""
        ...

    def shipment_correct(self, *, external_id: str, shipment: ShipmentRecord, held: ShipmentRecord) -> None:
        """Give `held` (as shipments_list read it) the tracking, carrier and service of `shipment`."""
        ...


class QuantitySource(Capability, Protocol):
    def quantities_download(self, *, skus: Sequence[str] | None = None) -> Iterator[ChannelQuantity]:
        """The quantities the channel holds per listing and warehouse (all, or these SKUs)."""
        ...


class QuantitySink(QuantitySource, Protocol):
    """Quantities out, through the outbox: a push that got no answer is settled by reading back (a source)."""

    push_batch_size: int  # updates per quantities_push call
    # A large push may be split into chunk tasks that several workers send at once. False when a connector
    # reads catalog-wide state before its first write (Extensiv: every listing and every stock location of each
    # warehouse), so each chunk would read it all again, or the channel takes one write at a time anyway.
    push_fans_out: ClassVar[bool] = True

    def quantities_push(self, updates: Sequence[QuantityUpdate]) -> list[QuantityResult]:
        """Set quantities; one result per update, in order (a refused one carries the channel's reason)."""
        ...


class ListingSource(Capability, Protocol):
    def listings_download(self, *, since: datetime | None) -> Iterator[Listing]:
        """The channel's listings changed since `since` (all when None), for the mapping table."""
        ...

    def product_ids_for_sku(self, sku: str) -> list[str]:
        """Every product id the channel has under one SKU (a conflict when more than one)."""
        ...


class ProductSink(Capability, Protocol):
    def products_upload(self, products: Sequence[Product]) -> list[UploadResult]:
        """Create or replace products; one result per product, in order."""
        ...


class CustomerSink(Capability, Protocol):
    def customers_upload(self, customers: Sequence[CustomerRecord]) -> list[UploadResult]:
        """Create or replace customers; one result per customer, in order."""
        ...


class WarehouseSource(Capability, Protocol):
    def warehouses_download(self) -> list[WarehouseRecord]:
        """Every warehouse the account has: channel warehouses to pair, or the fulfillment system's own."""
        ...


# The fulfillment system: orders out, shipments, stock and items in.


class FulfillmentTarget(Capability, Protocol):
    def order_submit(self, order: FulfillmentOrder) -> FulfillmentStatus:
        """Create the order; the same idempotency key twice returns the first order, not a second one."""
        ...

    def order_find(self, idempotency_key: str) -> FulfillmentStatus | None:
        """The order submitted under this key, if any (read before a retry)."""
        ...

    def order_status(self, number: str) -> FulfillmentStatus:
        """The order's status and whether it is locked (batched for picking)."""
        ...

    def order_delete(self, number: str) -> None:
        """Delete an order that is not locked; a locked one is a Conflict."""
        ...


class ShipmentSource(Capability, Protocol):
    def shipments_download(self, *, since: datetime | None) -> Iterator[ShipmentRecord]:
        """Shipments created or changed since `since`, oldest first."""
        ...


class StockSource(Capability, Protocol):
    def inventory_download(self, *, since: datetime | None) -> Iterator[StockLevelRecord]:
        """Stock per item and warehouse changed since `since`."""
        ...

    def supply_download(self, *, since: datetime | None) -> Iterator[Supply]:
        """Incoming supply (purchase-order lines) changed since `since`."""
        ...


class ItemSource(Capability, Protocol):
    def items_download(self, *, since: datetime | None) -> Iterator[CatalogItem]:
        """Items (with their bundle components) changed since `since`."""
        ...


CAPABILITIES: tuple[type, ...] = (
    OrderSource,
    OrderAcknowledger,
    CancellationSource,
    ShipmentSink,
    QuantitySink,
    QuantitySource,
    ListingSource,
    ProductSink,
    CustomerSink,
    WarehouseSource,
    FulfillmentTarget,
    ShipmentSource,
    StockSource,
    ItemSource,
)

C = TypeVar("C")


def implements(cls: type, capability: type) -> bool:
    """Whether a connector class declares the capability among its bases (what it supports, nothing else)."""
    return capability in cls.__mro__


def capabilities_of(cls: type) -> tuple[type, ...]:
    return tuple(cap for cap in CAPABILITIES if implements(cls, cap))


def capability(connector: object, needed: type[C]) -> C:
    """The connector as the capability a flow needs; a ChannelError when its class does not implement it."""
    if not implements(type(connector), needed):
        label = getattr(connector, "label", type(connector).__name__)
        raise ChannelError(f"the connector cannot do {needed.__name__}", channel=label)
    return cast(C, connector)
