"""The world of bench_shipments_upload: N new orders on a channel sandbox, the same N shipped in the hub (an
order, its lines, a shipment with its lines and a pending ShipmentUpload each, all bulk-created), and each
shipment's upload written out by hand as the channel's API takes it, for the bare request loop.

The sandbox helpers (`add_order`) number orders and items from counters the sandbox's reset starts again,
so after a reset the same calls give the same IDs and the hub rows made once stay valid: each side of the
benchmark ships fresh orders. Both ways a shipment ships every unit of its order, one or two lines.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from integrations.connectors.channeladvisor.client import TOKEN_FOR_KEY, TOKEN_KEY, TOKEN_UNTIL_KEY
from integrations.models import Channel
from integrations.sandbox.channeladvisor.entities import DC_IDS
from integrations.sandbox.registry import Sandboxes
from inventory.models import ChannelWarehouse, Warehouse, WarehousePairing
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, Shipment, ShipmentLine, ShipmentUpload
from orders.models import UploadState as U

PLACED_AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SHIPPED_AT = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
CARRIER, SERVICE = "UPS", "Ground"  # a pair ChannelAdvisor's carrier list accepts
CA_DC = DC_IDS["MAIN"]


@dataclass(frozen=True)
class ChannelOrder:
    """One sandbox order as the hub stores it: the channel's order ID and number, (item ID, SKU, quantity)."""

    n: int
    external_id: int
    number: str
    lines: tuple[tuple[int, str, int], ...]

    @property
    def shipment_id(self) -> str:
        return f"BENCH-SHP-{self.n:06d}"

    @property
    def tracking(self) -> str:
        return f"1ZBENCH{self.n:010d}"


def sandbox_fresh(sandboxes: Sandboxes, kind: str, n: int) -> list[ChannelOrder]:
    """Reset the sandbox (state, calls, faults) with its limits off, then add `n` unshipped orders."""
    api = sandboxes.api(kind)
    with api.lock:
        api.clear_faults()
        api.calls.clear()
        api.reset()
        if kind == "channeladvisor":
            api.rate_limit_per_minute = 10**9  # the sandbox's 2,000/minute would refuse a bare loop of 5,000
    skus = plain_skus(sandboxes)
    with api.lock:
        return [
            _add_order(api, kind, i, [(skus[(i + k) % len(skus)], 1 + (i + k) % 3) for k in range(1 + i % 2)])
            for i in range(n)
        ]


def plain_skus(sandboxes: Sandboxes) -> list[str]:
    """Listing SKUs of plain items (no bundles), in the World's order."""
    world = sandboxes.world
    return [lst.sku for lst in world.listings if lst.item_sku and not world.item(lst.item_sku).components][:12]


def _add_order(api: Any, kind: str, i: int, lines: list[tuple[str, int]]) -> ChannelOrder:
    if kind == "channeladvisor":
        order = api.add_order(lines, site_order_id=f"BENCH-{i:06d}")
        items = tuple((item["ID"], item["Sku"], item["Quantity"]) for item in order["Items"])
        return ChannelOrder(i, order["ID"], order["SiteOrderID"], items)
    order = api.add_order(lines, number=f"BENCH-{i:06d}")
    items = tuple((item["orderItemId"], item["listingSku"], item["quantityOrdered"]) for item in order["orderItems"])
    return ChannelOrder(i, order["orderId"], order["orderNumber"], items)


def hub_shipped(channel: Channel, orders: list[ChannelOrder]) -> None:
    """The orders shipped in the hub: orders, lines, shipments, shipment lines, pending outbox rows."""
    stored = Order.objects.bulk_create(
        Order(
            channel=channel,
            external_id=str(o.external_id),
            number=o.number,
            status=OrderStatus.SHIPPED,
            placed_at=PLACED_AT,
        )
        for o in orders
    )
    pairs = [(order, line, k) for order, o in zip(stored, orders, strict=True) for k, line in enumerate(o.lines)]
    lines = OrderLine.objects.bulk_create(
        OrderLine(
            order=order, external_id=str(item_id), channel_sku=sku, position=k, quantity=qty, quantity_shipped=qty
        )
        for order, (item_id, sku, qty), k in pairs
    )
    warehouse = "MAIN"
    if channel.kind == "channeladvisor":  # MAIN ships for DC 11, so Ship names DistributionCenterID 11
        main, _ = Warehouse.objects.get_or_create(code=warehouse)
        dc, _ = ChannelWarehouse.objects.get_or_create(channel=channel, external_id=str(CA_DC))
        WarehousePairing.objects.get_or_create(channel_warehouse=dc, warehouse=main)
    shipments = Shipment.objects.bulk_create(
        Shipment(
            order=order,
            channel=channel,
            external_id=o.shipment_id,
            tracking_number=o.tracking,
            carrier=CARRIER,
            service=SERVICE,
            warehouse=warehouse,
            shipped_at=SHIPPED_AT,
        )
        for order, o in zip(stored, orders, strict=True)
    )
    by_order = {s.order_id: s for s in shipments}
    ShipmentLine.objects.bulk_create(
        ShipmentLine(shipment=by_order[line.order_id], order_line=line, quantity=line.quantity) for line in lines
    )
    ShipmentUpload.objects.bulk_create(ShipmentUpload(shipment=s, channel=channel) for s in shipments)


def hub_requeue(channel: Channel) -> None:
    """Every outbox row pending again, never tried (so no read-back), and the run's order events gone. The
    access token the last round kept with the channel (ChannelAdvisor) is dropped too: the sandbox's reset
    forgot it, so the hub would meet a 401 and send its first shipment twice; each round starts, as the bare
    loop does, with one token grant."""
    ShipmentUpload.objects.filter(channel=channel).update(
        state=U.PENDING, attempts=0, sent_at=None, last_error="", next_attempt_at=None
    )
    OrderEvent.objects.filter(order__channel=channel).delete()
    kept = {TOKEN_KEY, TOKEN_UNTIL_KEY, TOKEN_FOR_KEY}
    if channel.kind == "channeladvisor" and kept & set(channel.credentials):  # Extensiv's token is a credential
        channel.credentials = {k: v for k, v in channel.credentials.items() if k not in kept}
        Channel.objects.filter(pk=channel.pk).update(credentials=channel.credentials)  # no save(): no schedules


def bare_calls(kind: str, orders: list[ChannelOrder]) -> list[tuple[str, str, dict]]:
    """(method, path, JSON body) of each shipment, as the connector sends it (the benchmark checks the sandbox
    received the same bodies both ways)."""
    shipped = SHIPPED_AT.strftime("%Y-%m-%dT%H:%M:%SZ")
    if kind == "channeladvisor":
        return [("POST", f"/v1/Orders({o.external_id})/Ship", _ca_body(o, shipped)) for o in orders]
    return [("PUT", "/v1.1/shipment/external", _extensiv_body(o, shipped)) for o in orders]


def _ca_body(o: ChannelOrder, shipped: str) -> dict:
    value = {
        "TrackingNumber": o.tracking,
        "ShippingCarrier": CARRIER,
        "ShippingClass": SERVICE,
        "DeliveryStatus": "Complete",
        "ShippedDateUtc": shipped,
        "SellerFulfillmentID": o.shipment_id,
        "DistributionCenterID": CA_DC,
        "Items": [{"OrderItemID": item_id, "Quantity": qty} for item_id, _, qty in o.lines],
    }
    return {"Value": value}


def _extensiv_body(o: ChannelOrder, shipped: str) -> dict:
    # One confirmation of the whole order with the documented fields only (reference 3.5): no items, no
    # shipDate or shippingService unless the channel's inferred_shipment_fields setting asks for them.
    entry = {"orderId": o.external_id, "trackingNumber": o.tracking, "shipMethod": {"shippingCarrier": CARRIER}}
    return {"notifyCustomer": False, "updateChannel": True, "shipments": entry}


def received(sandboxes: Sandboxes, kind: str) -> list[dict]:
    """What the sandbox accepted, in order: CA's Ship bodies (with OrderID), OM's external-shipment bodies."""
    api = sandboxes.api(kind)
    with api.lock:
        return list(api.shipments if kind == "channeladvisor" else api.uploads)
