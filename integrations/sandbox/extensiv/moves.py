"""The Extensiv sandbox's helpers that move the world (for tests and the demo), and shipment bookkeeping."""

import copy
import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from integrations.sandbox.extensiv import state
from integrations.sandbox.extensiv.query import Quota
from integrations.sandbox.extensiv.state import WAREHOUSE_IDS, stamp
from integrations.sandbox.server import HttpError


class WorldMoves:
    """Mixed into ExtensivSandbox; works on its state (see the package docstring)."""

    clock: datetime
    orders: dict[int, dict]
    products: dict[str, dict]
    listings: dict[int, dict]
    stock: dict[tuple[str, int], dict]
    _stock_index: tuple[int, list[tuple[str, int]], dict] | None
    shipments: list[dict]
    codes: set[str]
    quota: Quota | None

    def advance(self, seconds: int = 60) -> datetime:
        self.clock += timedelta(seconds=seconds)
        return self.clock

    def _tick(self) -> str:
        self.clock += timedelta(seconds=1)
        return stamp(self.clock) or ""

    def warehouse_id(self, warehouse: str | int) -> int:
        return int(warehouse) if str(warehouse).isdigit() else WAREHOUSE_IDS[str(warehouse)]

    def add_order(
        self,
        lines: list[tuple[str, int]],
        *,
        number: str | None = None,
        status: str = "AWAITING_SHIPMENT",
        warehouse: str = "MAIN",
    ) -> dict:
        by_listing = {row["listingSku"]: row["masterSku"] for row in self.listings.values()}
        order_id = max(self.orders, default=90000) + 1
        resolved = []
        for listing_sku, quantity in lines:
            master = by_listing.get(listing_sku, listing_sku)
            price = self.products[master]["mapPrice"]["amount"] if master in self.products else 0
            resolved.append((listing_sku, master, quantity, Decimal(str(price))))
        self._tick()
        order = state.order_payload(
            order_id=order_id,
            number=number or str(order_id),
            placed_at=self.clock,
            modified=self.clock,
            status=status,
            warehouse=warehouse,
            lines=resolved,
            products=self.products,
        )
        self.orders[order_id] = order
        return order

    def modify_order(self, order_id: int, **fields: Any) -> dict:
        order = self.orders[order_id]
        order.update(fields)
        order["modifiedDate"] = self._tick()
        return order

    def cancel_order(self, order_id: int, reason: str = "Cancelled in Order Manager") -> dict:
        return self._cancel(self.orders[order_id], reason)

    def _cancel(self, order: dict, reason: str) -> dict:
        order.update(orderStatus="CANCELLED", cancelReason=reason, modifiedDate=self._tick())
        return order

    def order_by_number(self, number: str) -> dict:
        return next(o for o in self.orders.values() if o["orderNumber"] == number)

    def quantity(self, sku: str, warehouse: str | int) -> int:
        return self.stock[(sku, self.warehouse_id(warehouse))]["onHandQuantity"]

    def set_quantity(self, sku: str, warehouse: str | int, on_hand: int) -> dict:
        row = self.stock[(sku, self.warehouse_id(warehouse))]
        row["onHandQuantity"] = on_hand
        return row

    def remove_stock(self, sku: str, warehouse: str | int) -> None:
        del self.stock[(sku, self.warehouse_id(warehouse))]
        self._stock_index = None

    def move_stock(self, sku: str, warehouse: str | int, location: str) -> None:
        self.stock[(sku, self.warehouse_id(warehouse))]["location"] = location

    def shipments_of(self, order_id: int) -> list[dict]:
        return [s for s in self.shipments if s["orderId"] == order_id]

    def issue_code(self) -> str:
        code = secrets.token_urlsafe(12)
        self.codes.add(code)
        return code

    def set_quota(self, capacity: int, per_second: float, retry_after_ms: int | None = 1000) -> None:
        self.quota = Quota(capacity, per_second, retry_after_ms)

    # Shipment internals.

    def _plan_shipment(self, entry: dict, *, again: bool = False) -> tuple[dict, dict, list[tuple[dict, int]]]:
        """`again`: a further parcel of an order already in this call (it ships nothing more by itself)."""
        order_id, tracking = entry.get("orderId"), entry.get("trackingNumber")
        order = self.orders.get(int(str(order_id))) if str(order_id).isdigit() else None
        if order is None:
            raise HttpError(404, f"Order {order_id} not found")
        if not tracking:
            raise HttpError(400, "trackingNumber is required")
        if order["orderStatus"] == "CANCELLED":
            raise HttpError(400, f"Order {order_id} is cancelled")
        if order["orderStatus"] == "SHIPPED":
            raise HttpError(400, f"Order {order_id} is already shipped")
        open_qty = self._open_quantities(order)
        if "items" not in entry and again:
            return entry, order, []
        if "items" not in entry:
            return entry, order, [(item, qty) for item, qty in open_qty if qty > 0]
        planned = []
        for wanted in entry["items"] or []:
            item, remaining = self._match_item(open_qty, wanted)
            quantity = wanted.get("quantity")
            if not isinstance(quantity, int) or not 0 < quantity <= remaining:
                raise HttpError(400, f"Bad quantity {quantity!r} for item {item['orderItemId']}")
            planned.append((item, quantity))
        return entry, order, planned

    def _open_quantities(self, order: dict) -> list[tuple[dict, int]]:
        shipped: dict[int, int] = {}
        for shipment in self.shipments_of(order["orderId"]):
            for row in shipment["items"]:
                shipped[row["orderItemId"]] = shipped.get(row["orderItemId"], 0) + row["quantity"]
        return [(i, i["quantityOrdered"] - shipped.get(i["orderItemId"], 0)) for i in order["orderItems"]]

    @staticmethod
    def _match_item(open_qty: list[tuple[dict, int]], wanted: Any) -> tuple[dict, int]:
        if isinstance(wanted, dict):
            for item, remaining in open_qty:
                by_id = wanted.get("orderItemId") is not None and str(wanted["orderItemId"]) == str(item["orderItemId"])
                by_sku = wanted.get("orderItemId") is None and wanted.get("listingSku") == item["listingSku"]
                if (by_id or by_sku) and remaining > 0:
                    return item, remaining
        raise HttpError(400, f"No open order item matches {wanted!r}")

    def _record_shipment(self, entry: dict, order: dict, items: list[tuple[dict, int]]) -> dict:
        shipment = {
            "shipmentId": 70001 + len(self.shipments),
            "orderId": order["orderId"],
            "orderNumber": order["orderNumber"],
            "created": self._tick(),
            "shipDate": entry.get("shipDate") or stamp(self.clock),
            "estimatedArrival": None,
            "trackingNumber": entry["trackingNumber"],
            "deliveryStatus": "IN_TRANSIT",
            "warehouseId": order["fulfillmentSource"]["warehouseId"],
            "type": "FULFILLMENT",
            "external": True,
            "shipMethod": entry.get("shipMethod"),
            "items": [
                {"orderItemId": i["orderItemId"], "listingSku": i["listingSku"], "quantity": q} for i, q in items
            ],
        }
        self.shipments.append(shipment)
        summary = {k: shipment[k] for k in ("shipmentId", "trackingNumber", "shipDate", "items", "shipMethod")}
        order["shipments"].append(summary)
        order["shipment"] = {k: shipment[k] for k in ("shipmentId", "type", "created", "shipDate", "trackingNumber")}
        order["orderStatus"] = "SHIPPED"  # the external confirmation ships the whole order, items or not
        order["modifiedDate"] = stamp(self.clock)
        return copy.deepcopy(shipment)
