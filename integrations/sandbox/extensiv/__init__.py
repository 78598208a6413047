"""The sandbox Extensiv Order Manager (formerly Skubana): the paths, Bearer auth, page/limit paging, 429
quota header and payload shapes of shared/reference/channel-apis.md §3, over in-memory state seeded from
the World (see state.py). Times come from a fake clock that starts after the seeded orders and moves one
second per change, so modified windows are deterministic.

State tests can read (plain dicts in OM's payload shapes):
    api.orders[order_id], api.shipments (list, in upload order), api.products[master_sku],
    api.listings[listing_id], api.stock[(master_sku, warehouse_id)] ({onHandQuantity, lockedQuantity, …,
    location}), api.warehouses[warehouse_id], api.adjustments (every accepted adjust row), api.uploads
    (every body PUT to /v1.1/shipment/external, accepted or not), api.tokens (accepted Bearer tokens),
    api.app_key / api.app_secret (the Basic pair /oauth/token accepts), api.clock.

Helpers that move the world (each stamps what it changes):
    api.advance(seconds=60) -> datetime       move the clock on
    api.warehouse_id("MAIN") -> int           OM's id of a World warehouse (MAIN 101, EAST 102, FBA 103)
    api.add_order(lines=[(listing_sku, qty)], *, number=None, status="AWAITING_SHIPMENT", warehouse="MAIN")
        -> dict                                a new order; listing SKUs resolve to products via the listings
    api.modify_order(order_id, **fields) -> dict
    api.cancel_order(order_id, reason="…") -> dict   cancelled inside OM (as POST /v1/orders/cancel does)
    api.order_by_number(number) -> dict
    api.quantity(sku, warehouse) -> int       on hand; warehouse as code ("MAIN") or id
    api.set_quantity(sku, warehouse, on_hand) -> dict
    api.remove_stock(sku, warehouse)          delete the stock row (adjusting it then answers ERR097)
    api.move_stock(sku, warehouse, location)  the stock row now sits at another location (the old one: ERR097)
    api.shipments_of(order_id) -> list[dict]
    api.issue_code() -> str                    a one-time authorization code for POST /oauth/token
    api.set_quota(capacity, per_second, retry_after_ms=1000)  token bucket: 429 + x-skubana-quota-retryAfter
        (ms; None sends no header) once exhausted; off after reset()

Quirks reproduced: `shipments` in PUT /v1.1/shipment/external may be an object or an array ([I]), one entry
per parcel; each may carry `items` [{orderItemId or listingSku, quantity}] ([I]); without items the first
entry of a call ships every open quantity. Any external confirmation marks the order SHIPPED (reference 3.7),
and a confirmation of an order already SHIPPED is refused (400) with nothing recorded. The inventory adjust
answers 200 with per-row `errors` whose `index` is 1-based, and ERR097 for a location the product has no
stock row at: 3PL warehouses (FBA) keep stock at `GLOBAL`, direct ones (MAIN, EAST) at a named bin per
product, listed by GET /v1/inventory. Lookup by `orderId` on GET /v1.1/orders is [I].
"""

import base64
import copy
import hmac
import secrets
from datetime import timedelta
from http import HTTPStatus
from typing import Any, ClassVar

from integrations.sandbox.extensiv import state
from integrations.sandbox.extensiv.moves import WorldMoves
from integrations.sandbox.extensiv.query import Quota, page, parse, quoted_list, when
from integrations.sandbox.extensiv.state import CANCEL_REASON_TYPES, SALES_CHANNELS
from integrations.sandbox.seed import EPOCH
from integrations.sandbox.server import HttpError, Request, SandboxAPI, route

MAX_ADJUST_ROWS = 200
QUOTA_HEADER = "x-skubana-quota-retryAfter"


class ExtensivSandbox(WorldMoves, SandboxAPI):
    name = "extensiv"
    credentials: ClassVar[dict[str, str]] = {"access_token": "om-sandbox-token-4c1d9e"}
    # The hub's channel settings for the demo and the tests: no 10 s pause between inventory batches.
    channel_settings: ClassVar[dict[str, Any]] = {"adjust_interval": 0, "requests_per_second": 50}
    app_key, app_secret = "om-sandbox-app", "om-sandbox-app-secret"

    def reset(self) -> None:
        self.clock = EPOCH + timedelta(days=2)
        self.tokens = {self.credentials["access_token"]}
        self.codes: set[str] = set()
        self.quota: Quota | None = None
        self.warehouses = state.warehouses_seed(self.world)
        self.products = state.products_seed(self.world)
        self.listings = state.listings_seed(self.world, self.products)
        self.stock = state.stock_seed(self.world)
        self._stock_index: tuple[int, list[tuple[str, int]], dict] | None = None  # see _stock_keys
        self.orders = state.orders_seed(self.world, self.products)
        self.shipments: list[dict] = []
        self.uploads: list[Any] = []
        self.adjustments: list[dict] = []

    # Auth, errors, quota.

    def public(self, request: Request) -> bool:
        return request.path == "/oauth/token"

    def authenticate(self, request: Request) -> None:
        scheme, _, token = request.header("Authorization").partition(" ")
        if scheme.lower() != "bearer" or not any(hmac.compare_digest(token.encode(), t.encode()) for t in self.tokens):
            raise HttpError(401, "Invalid access token")
        if self.quota and not self.quota.take():
            headers = {} if self.quota.retry_after_ms is None else {QUOTA_HEADER: str(self.quota.retry_after_ms)}
            raise HttpError(429, "Quota exceeded", headers=headers)

    def error_body(self, status: int, message: str) -> Any:
        if status == 401:
            return {"error": "invalid_token", "error_description": message}
        return {"status": status, "error": HTTPStatus(status).phrase, "message": message}

    def retry_after_headers(self, seconds: float) -> dict[str, str]:
        return {QUOTA_HEADER: str(int(seconds * 1000))}

    @route("POST", r"/oauth/token")
    def token(self, request: Request) -> Any:
        expected = base64.b64encode(f"{self.app_key}:{self.app_secret}".encode()).decode()
        scheme, _, given = request.header("Authorization").partition(" ")
        if scheme.lower() != "basic" or not hmac.compare_digest(given.encode(), expected.encode()):
            raise HttpError(401, "Bad app key or secret", body={"error": "invalid_client"})
        code = request.q("code") or ""
        if request.q("grant_type") != "authorization_code" or code not in self.codes:
            raise HttpError(400, "Unknown or used code", body={"error": "invalid_grant"})
        self.codes.discard(code)  # one use only
        token = f"om-{secrets.token_hex(12)}"
        self.tokens.add(token)
        return {"access_token": token, "token_type": "bearer", "scope": "all"}

    # Reference data.

    @route("GET", r"/v1/companyinfo")
    def company(self, request: Request) -> Any:
        return {"companyId": 1, "name": "Sandbox Trading Co"}

    @route("GET", r"/v1/warehouses")
    def warehouses_list(self, request: Request) -> Any:
        return [dict(w) for w in self.warehouses.values()]

    @route("GET", r"/v1/saleschannels")
    def sales_channels(self, request: Request) -> Any:
        return [dict(c) for c in SALES_CHANNELS]

    @route("GET", r"/v1\.1/products")
    def products_list(self, request: Request) -> Any:
        wanted = quoted_list(request.q("sku"))
        since = when(request, "modifiedDateFrom")
        rows = [
            p
            for p in self.products.values()
            if (wanted is None or p["masterSku"] in wanted) and (since is None or parse(p["modifiedDate"]) >= since)
        ]
        return page(request, rows)

    @route("GET", r"/v1/listings")
    def listings_list(self, request: Request) -> Any:
        since = when(request, "modifiedDateFrom")
        rows = [row for row in self.listings.values() if since is None or parse(row["lastModified"]) >= since]
        return page(request, rows)

    # Orders.

    @route("GET", r"/v1(\.1)?/orders")
    def orders_list(self, request: Request) -> Any:
        since, until = when(request, "modifiedDateFrom"), when(request, "modifiedDateTo")
        filters = {
            "orderNumber": request.q("orderNumber"),
            "orderId": request.q("orderId"),
            "orderStatus": request.q("status") or request.q("orderStatus"),
            "warehouseId": request.q("warehouseId"),
        }
        rows = []
        for order in sorted(self.orders.values(), key=lambda o: o["orderId"]):
            modified = parse(order["modifiedDate"])
            if (since and modified < since) or (until and modified > until):
                continue
            values = {**order, "warehouseId": order["fulfillmentSource"]["warehouseId"]}
            if all(wanted is None or str(values[name]) == wanted for name, wanted in filters.items()):
                rows.append(order)
        return copy.deepcopy(page(request, rows))

    @route("POST", r"/v1/orders/cancel")
    def orders_cancel(self, request: Request) -> Any:
        order_id, number = request.q("orderId"), request.q("orderNumber")
        order = self.orders.get(int(order_id)) if order_id and order_id.isdigit() else None
        if order is None and number:
            order = next((o for o in self.orders.values() if o["orderNumber"] == number), None)
        if order is None:
            raise HttpError(404, "Order not found")
        reason_type = request.q("cancelReasonType") or "OTHER"
        if reason_type not in CANCEL_REASON_TYPES:
            raise HttpError(400, f"Unknown cancelReasonType {reason_type}")
        if order["orderStatus"] == "SHIPPED":
            raise HttpError(400, "A shipped order cannot be cancelled")
        return copy.deepcopy(self._cancel(order, request.q("cancelReason") or reason_type))

    # Shipments.

    @route("PUT", r"/v1\.1/shipment/external")
    def shipment_external(self, request: Request) -> Any:
        body = request.json()
        self.uploads.append(body)
        entries = body.get("shipments") if isinstance(body, dict) else None
        entries = [entries] if isinstance(entries, dict) else entries
        if not entries or not all(isinstance(e, dict) for e in entries):
            raise HttpError(400, "shipments must be an object or a non-empty array of objects")
        planned, confirmed = [], set()
        for entry in entries:  # validate all before changing anything
            entry, order, items = self._plan_shipment(entry, again=entry.get("orderId") in confirmed)
            confirmed.add(entry.get("orderId"))
            planned.append((entry, order, items))
        return [self._record_shipment(entry, order, items) for entry, order, items in planned]

    @route("GET", r"/v1/shipments")
    def shipments_list(self, request: Request) -> Any:
        since, until = when(request, "shipmentFromDate"), when(request, "shipmentToDate")
        rows = [
            s
            for s in self.shipments
            if (since is None or parse(s["shipDate"]) >= since) and (until is None or parse(s["shipDate"]) <= until)
        ]
        return copy.deepcopy(page(request, rows))

    # Inventory.

    @route("GET", r"/v1/productstocks/total")
    def stock_totals(self, request: Request) -> Any:
        grouped, _ = self._stock_keys(request.q("warehouseId"), request.q("sku"))
        totals = []
        for master_sku, keys in page(request, grouped):
            product = self.products[master_sku]
            total = {
                "product": {k: product[k] for k in ("productId", "masterSku", "name", "upc")},
                "onHandQuantity": 0,
                "lockedQuantity": 0,
                "inTransitQuantity": 0,
            }
            for key in keys:
                for name in ("onHandQuantity", "lockedQuantity", "inTransitQuantity"):
                    total[name] += self.stock[key][name]
            totals.append(total)
        return totals

    @route("GET", r"/v1/inventory")
    def inventory_list(self, request: Request) -> Any:
        """Per-location stock rows (reference 3.6), filtered by warehouseId and sku."""
        _, keys = self._stock_keys(request.q("warehouseId"), request.q("sku"))
        rows = []
        for master_sku, warehouse_id in page(request, keys):
            row, product = self.stock[(master_sku, warehouse_id)], self.products[master_sku]
            rows.append(
                {
                    "productStockId": row["productStockId"],
                    "product": {k: product[k] for k in ("productId", "masterSku", "name")},
                    "quantity": row["onHandQuantity"],
                    "quantityLocked": row["lockedQuantity"],
                    "stockLocation": {
                        "location": row["location"],
                        "stockLocationId": row["productStockId"] + 1000,
                        "warehouseId": warehouse_id,
                    },
                    "active": True,
                    "pickable": True,
                }
            )
        return rows

    def _stock_keys(self, warehouse: str | None, sku: str | None) -> tuple[list, list[tuple[str, int]]]:
        """The matching stock rows' keys in (SKU, warehouse) order, grouped by master SKU ([(sku, [keys])]) and
        flat: kept between calls while the rows are the same ones, so paging through 100,000 products does
        not sort and filter them all again for every page."""
        if self._stock_index is None or self._stock_index[0] != len(self.stock):
            self._stock_index = (len(self.stock), sorted(self.stock), {})
        _, ordered, found = self._stock_index
        if (warehouse, sku) not in found:
            flat = [
                (master_sku, warehouse_id)
                for master_sku, warehouse_id in ordered
                if (not warehouse or str(warehouse_id) == warehouse) and (not sku or master_sku == sku)
            ]
            grouped: dict[str, list[tuple[str, int]]] = {}
            for key in flat:
                grouped.setdefault(key[0], []).append(key)
            found[(warehouse, sku)] = (list(grouped.items()), flat)
        return found[(warehouse, sku)]

    @route("POST", r"/v1\.1/inventory/adjust")
    def inventory_adjust(self, request: Request) -> Any:
        rows = request.json()
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise HttpError(400, "The body must be an array of adjustments")
        if len(rows) > MAX_ADJUST_ROWS:
            raise HttpError(400, f"At most {MAX_ADJUST_ROWS} adjustments per call")
        results, errors = [], []
        for index, row in enumerate(rows, 1):  # OM reports `index` 1-based
            error = self._adjust_error(row)
            if error:
                errors.append({**error, "identifier": row.get("masterSku"), "index": index})
                continue
            stock = self.stock[(row["masterSku"], int(row["warehouseId"]))]
            stock["onHandQuantity"] = row["onHandQuantity"]
            self.adjustments.append(dict(row))
            results.append({"masterSku": row["masterSku"], "warehouseId": int(row["warehouseId"]), "index": index})
        return {"results": results, "errors": errors}

    def _adjust_error(self, row: dict) -> dict | None:
        sku, quantity = row.get("masterSku"), row.get("onHandQuantity")
        if sku not in self.products:
            return {"errorCode": "ERR053", "message": f"Product {sku} does not exist"}
        warehouse = row.get("warehouseId")
        stock = self.stock.get((sku, int(str(warehouse)))) if str(warehouse).isdigit() else None
        if stock is None or stock["location"] != row.get("stockLocationName"):
            location = row.get("stockLocationName")
            return {"errorCode": "ERR097", "message": f"No product stock for {sku} at {location} in {warehouse}"}
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            return {"errorCode": "ERR001", "message": f"onHandQuantity must be a whole number >= 0: {quantity!r}"}
        return None
