"""The sandbox fulfillment system: the JSON contract of docs/oms-api.md over in-memory state.

Items, stock, incoming supply and warehouses are seeded from the World; orders arrive by POST and are
de-duplicated by their Idempotency-Key. Every row carries `updated_at` from a fake clock that starts at the
seed EPOCH and moves one second per change, so results are deterministic and `updated_since` works.

State tests can read (plain dicts, keyed as shown; times are aware datetimes):
    api.orders[number], api.shipments[id], api.items[sku], api.stock[(sku, warehouse)],
    api.supply[id], api.warehouses[code], api.submits (POSTs that created an order),
    api.replays (POSTs answered with an existing order), api.clock (the last stamp).

Helpers that move the world (each stamps what it changes):
    api.advance(seconds=60) -> datetime         move the clock on; rows changed later are stamped after it
    api.orders_for(reference) -> list[dict]     orders submitted for a channel order number
    api.batch(number, batch=None) -> dict       put an open order in a pick batch: status batched, locked
    api.ship(number, lines=None, *, tracking=None, carrier="UPS", service="Ground", warehouse="MAIN")
        -> dict (the shipment); lines={line_ref: qty}, None = every open quantity; more than ordered is
        allowed (an over-shipment); the order becomes partially_shipped or shipped
    api.set_tracking(shipment_id, tracking) -> dict
    api.cancel(number) -> dict                  cancelled in the fulfillment system (not by the hub)
    api.set_stock(sku, warehouse, *, on_hand=None, allocated=None) -> dict
    api.add_item(sku, item_number="", **fields) -> dict, api.update_item(sku, **fields) -> dict,
    api.deactivate_item(sku) -> dict
    api.add_supply(sku, warehouse, quantity, expected_date, purchase_order="") -> dict,
    api.close_supply(supply_id) -> dict         received: reported once more with quantity 0

Stock does not move with orders or shipments; tests set it with `set_stock`. For the demo the same order
moves are reachable over HTTP: POST /api/v1/_sandbox/orders/{number}/batch and .../ship (body
{"lines": {line_ref: qty}, "tracking": "…"}, both optional).
"""

import hmac
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from integrations.sandbox.oms_contract import error, order_from_payload, page, render, rows_ordered
from integrations.sandbox.seed import EPOCH
from integrations.sandbox.server import HttpError, Request, Response, SandboxAPI, route

ORDER_PATH = r"/api/v1/orders/(?P<number>[^/]+)"
CENTS = Decimal("0.01")


class OmsSandbox(SandboxAPI):
    name = "oms"
    credentials: ClassVar[dict[str, str]] = {"api_key": "oms-sandbox-key-7f3a9c2e"}
    channel_settings: ClassVar[dict[str, Any]] = {"page_size": 100}

    def reset(self) -> None:
        self.clock = EPOCH
        self._ordered: dict[str, tuple[tuple[datetime, int], Any]] = {}
        self.submits = self.replays = 0
        self.orders: dict[str, dict] = {}
        self.shipments: dict[str, dict] = {}
        self.keys: dict[str, tuple[str, str]] = {}  # idempotency key -> (order number, canonical body)
        self.warehouses = {
            code: {"code": code, "name": name, "active": True, "updated_at": self._stamp()}
            for code, name in self.world.warehouses
        }
        self.items: dict[str, dict] = {}
        for item in self.world.items:
            self.add_item(**{**vars(item), "components": [{"sku": s, "quantity": q} for s, q in item.components]})
        self.stock: dict[tuple[str, str], dict] = {}
        for (sku, warehouse), (on_hand, allocated) in self.world.stock.items():
            self.set_stock(sku, warehouse, on_hand=on_hand, allocated=allocated)
        self.supply: dict[str, dict] = {}
        for sku, warehouse, quantity, expected, po in self.world.supply:
            self.add_supply(sku, warehouse, quantity, expected, po)

    def authenticate(self, request: Request) -> None:
        header = request.header("authorization")
        key = header[7:] if header[:7].lower() == "bearer " else request.header("x-api-key")
        if not hmac.compare_digest(key.encode(), self.credentials["api_key"].encode()):
            raise HttpError(401, "The API key is missing or not valid.")

    def error_body(self, status: int, message: str) -> Any:
        codes = {400: "bad_request", 401: "unauthorized", 404: "not_found", 409: "conflict", 422: "invalid"}
        return error(codes.get(status, "rate_limited" if status == 429 else "server_error"), message)

    # Reads.

    @route("GET", r"/api/v1/warehouses")
    def list_warehouses(self, request: Request) -> Any:
        return page(request, self.warehouses.values(), lambda w: (w["code"],), hide=("updated_at",))

    @route("GET", r"/api/v1/items")
    def list_items(self, request: Request) -> Any:
        return self._page(request, "items", self.items.values(), lambda i: (i["sku"],))

    @route("GET", r"/api/v1/inventory")
    def list_inventory(self, request: Request) -> Any:
        return self._page(request, "stock", self.stock.values(), lambda s: (s["sku"], s["warehouse"]))

    @route("GET", r"/api/v1/supply")
    def list_supply(self, request: Request) -> Any:
        return self._page(request, "supply", self.supply.values(), lambda s: (s["id"],))

    @route("GET", r"/api/v1/shipments")
    def list_shipments(self, request: Request) -> Any:
        return self._page(request, "shipments", self.shipments.values(), lambda s: (s["id"],))

    @route("GET", r"/api/v1/orders")
    def list_orders(self, request: Request) -> Any:
        rows = list(self.orders.values())
        for name in ("idempotency_key", "reference"):
            if (wanted := request.q(name)) is not None:
                rows = [o for o in rows if o[name] == wanted]
        return page(request, rows, lambda o: (o["number"],))

    @route("GET", ORDER_PATH)
    def get_order(self, request: Request, number: str) -> Any:
        return render(self._order(number))

    # Writes.

    @route("POST", r"/api/v1/orders")
    def submit_order(self, request: Request) -> Response:
        key = request.header("idempotency-key").strip()
        if not key or len(key) > 255:
            raise HttpError(
                400, body=error("idempotency_key_required", "Send an Idempotency-Key header (1-255 chars).")
            )
        body = request.json()
        # A replay is answered before validation: whatever changed since (an item removed), it must not fail.
        canonical = json.dumps(body, sort_keys=True)
        if key in self.keys:
            number, first = self.keys[key]
            if canonical != first:
                message = f"Idempotency-Key {key!r} was used for a different order ({number})."
                raise HttpError(422, body=error("idempotency_key_reused", message))
            self.replays += 1
            return Response(200, render(self.orders[number]))
        order = order_from_payload(body, self.items)
        number = f"SO-{100001 + len(self.orders)}"
        now = self._stamp()
        self.orders[number] = {
            "number": number,
            **order,
            "idempotency_key": key,
            "status": "open",
            "locked": False,
            "batch": None,
            "created_at": now,
            "updated_at": now,
        }
        self.keys[key] = (number, canonical)
        self.submits += 1
        return Response(201, render(self.orders[number]), {"Location": f"/api/v1/orders/{number}"})

    @route("DELETE", ORDER_PATH)
    def delete_order(self, request: Request, number: str) -> Response:
        order = self._order(number)
        if order["status"] == "batched":
            message = f"Order {number} is in pick batch {order['batch']} and cannot be deleted."
            raise HttpError(409, body=error("order_locked", message))
        if order["status"] in ("partially_shipped", "shipped"):
            message = f"Order {number} is {order['status'].replace('_', ' ')} and cannot be deleted."
            raise HttpError(409, body=error("order_shipped", message))
        if order["status"] != "cancelled":
            self._set(order, status="cancelled", locked=False)
        return Response(204)

    @route("POST", r"/api/v1/_sandbox/orders/(?P<number>[^/]+)/batch")
    def batch_order(self, request: Request, number: str) -> Any:
        self._order(number)
        return render(self._checked(self.batch, number))

    @route("POST", r"/api/v1/_sandbox/orders/(?P<number>[^/]+)/ship")
    def ship_order(self, request: Request, number: str) -> Any:
        self._order(number)
        body = request.json() or {}
        return render(self._checked(self.ship, number, body.get("lines"), tracking=body.get("tracking")))

    # Helpers for tests and the demo.

    def advance(self, seconds: float = 60) -> datetime:
        """Move the fake clock on; rows changed afterwards are stamped after the returned instant."""
        self.clock += timedelta(seconds=seconds)
        return self.clock

    def orders_for(self, reference: str) -> list[dict]:
        return [o for o in self.orders.values() if o["reference"] == reference]

    def batch(self, number: str, batch: str | None = None) -> dict:
        order = self.orders[number]
        if order["status"] != "open":
            raise ValueError(f"order {number} is {order['status']}, only open orders can be batched")
        batch = batch or f"B-{1 + sum(1 for o in self.orders.values() if o['batch']):04d}"
        return self._set(order, status="batched", locked=True, batch=batch)

    def ship(
        self,
        number: str,
        lines: dict[str, int] | None = None,
        *,
        tracking: str | None = None,
        carrier: str = "UPS",
        service: str = "Ground",
        warehouse: str = "MAIN",
    ) -> dict:
        order = self.orders[number]
        if order["status"] == "cancelled":
            raise ValueError(f"order {number} is cancelled")
        by_ref = {line["line_ref"]: line for line in order["lines"]}
        if lines is None:
            lines = {ref: line["quantity"] - line["shipped_quantity"] for ref, line in by_ref.items()}
        lines = {ref: int(qty) for ref, qty in lines.items() if int(qty) > 0}
        if not lines or set(lines) - set(by_ref):
            raise ValueError(f"nothing to ship on {number}, or unknown line refs: {sorted(set(lines) - set(by_ref))}")
        seq = len(self.shipments) + 1
        now = self._stamp()
        shipment = {
            "id": f"SH-{seq:06d}",
            "order_number": number,
            "order_reference": order["reference"],
            "invoice_number": f"INV-{seq:06d}",
            "tracking_number": f"1Z999AA1{seq:010d}" if tracking is None else tracking,
            "carrier": carrier,
            "service": service,
            "warehouse": warehouse,
            "shipped_at": now,
            "updated_at": now,
            "lines": [{"line_ref": ref, "sku": by_ref[ref]["sku"], "quantity": qty} for ref, qty in lines.items()],
        }
        self.shipments[shipment["id"]] = shipment
        for ref, qty in lines.items():
            by_ref[ref]["shipped_quantity"] += qty
        done = all(line["shipped_quantity"] >= line["quantity"] for line in order["lines"])
        self._set(order, status="shipped" if done else "partially_shipped", locked=True, stamp=now)
        return shipment

    def set_tracking(self, shipment_id: str, tracking: str) -> dict:
        return self._set(self.shipments[shipment_id], tracking_number=tracking)

    def cancel(self, number: str) -> dict:
        return self._set(self.orders[number], status="cancelled", locked=False)

    def set_stock(self, sku: str, warehouse: str, *, on_hand: int | None = None, allocated: int | None = None) -> dict:
        row = self.stock.get((sku, warehouse)) or {"sku": sku, "warehouse": warehouse, "on_hand": 0, "allocated": 0}
        on_hand = row["on_hand"] if on_hand is None else on_hand
        allocated = row["allocated"] if allocated is None else allocated
        self.stock[(sku, warehouse)] = row
        return self._set(row, on_hand=on_hand, allocated=allocated, available=max(0, on_hand - allocated))

    def add_item(self, sku: str, item_number: str = "", **fields: Any) -> dict:
        item: dict[str, Any] = {
            "sku": sku,
            "item_number": item_number or sku,
            **dict.fromkeys(("color_code", "prepack_run", "size", "upc", "description"), ""),
            "wholesale_price": None,
            "retail_price": None,
            "active": True,
            "components": [],
        }
        self.items[sku] = item
        return self.update_item(sku, **fields)

    def update_item(self, sku: str, **fields: Any) -> dict:
        item = self.items[sku]
        unknown = set(fields) - set(item)
        if unknown:
            raise ValueError(f"unknown item field(s): {', '.join(sorted(unknown))}")
        for price in ("wholesale_price", "retail_price"):
            if fields.get(price) is not None:
                fields[price] = str(Decimal(str(fields[price])).quantize(CENTS))
        return self._set(item, **fields)

    def deactivate_item(self, sku: str) -> dict:
        return self.update_item(sku, active=False)

    def add_supply(
        self, sku: str, warehouse: str, quantity: int, expected_date: date, purchase_order: str = ""
    ) -> dict:
        supply_id = f"SUP-{len(self.supply) + 1:04d}"
        row = {"id": supply_id, "sku": sku, "warehouse": warehouse, "purchase_order": purchase_order}
        self.supply[supply_id] = row
        return self._set(row, quantity=quantity, expected_date=expected_date)

    def close_supply(self, supply_id: str) -> dict:
        return self._set(self.supply[supply_id], quantity=0)

    # Internals.

    def _page(self, request: Request, name: str, rows: Any, key: Any) -> Any:
        """A page of a whole collection, its order kept until the clock moves (every change stamps a row)."""
        cached = self._ordered.get(name)
        if cached is None or cached[0] != (self.clock, len(rows)):
            cached = ((self.clock, len(rows)), rows_ordered(rows, key))
            self._ordered[name] = cached
        return page(request, rows, key, ordered=cached[1])

    def _stamp(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    def _set(self, row: dict, *, stamp: datetime | None = None, **changes: Any) -> dict:
        row.update(changes)
        row["updated_at"] = stamp or self._stamp()
        return row

    def _order(self, number: str) -> dict:
        if number not in self.orders:
            raise HttpError(404, f"No order {number}.")
        return self.orders[number]

    def _checked(self, helper: Any, *args: Any, **kwargs: Any) -> dict:
        try:
            return helper(*args, **kwargs)
        except ValueError as exc:
            raise HttpError(409, str(exc)) from None
