"""The NuORDER API, simulated: OAuth 1.0a signed requests (RFC 5849; the legacy hex style only when
`accept_legacy`), errors `{"code", "message"}`, orders by status, status changes, partial updates and
`set/{field}/{value}`, products (create, upsert, update, get), inventory per warehouse/size/WIP bucket,
companies. Warehouses are set up in the brand's settings, not listed by any call: the sandbox knows them
(`warehouses`, what inventory posts may name) and its orders and products name them, per line and per stock entry.

State, for tests to inspect: `orders` (by `_id`), `products` (by `_id`), `companies` (by code),
`warehouses`, `inventory` ({(product _id, warehouse, prebook, bucket, size): quantity}).
Helpers that move the world: `add_order(lines=[(item_sku, qty)], status=, number=)`, `set_status(id, status)`,
`modify_order(id, **fields)`, `cancel_order(id)`, `add_recorded_order(order)` (an order shaped like the
real recorded ones, e.g. tests/data/nuorder/orders_recorded.json: its products are added with their sizes,
with or without UPC, and the warehouses its lines name become the brand's), `inventory_refusals[product _id] = message` (its inventory
posts answer 200 `{"success": false}`); readers `order(id)`, `order_by_number(number)`,
`product_for_upc(upc)`, `product_by_style(style, color)`, `quantity(product_id, warehouse, size, bucket=)`;
and `set_quantity(product_id, warehouse, size, quantity, bucket=)` to make NuORDER disagree with the hub.

Inferred behaviour [I]: `GET /api/products/list` (product ids), the `warehouses`
view on `GET /api/product/{_id}` (per warehouse, its WIP buckets of per-size quantities), WIP buckets named by ISO date, and that an inventory post replaces, per
warehouse, every bucket of each size it names (sizes it does not name keep their quantities).
"""

import json
import threading
import time
from collections import deque
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from integrations.oauth1 import SignatureError, verify_request
from integrations.sandbox.nuorder import seeding
from integrations.sandbox.nuorder.store import InventoryStore, check_order_update
from integrations.sandbox.seed import WorldOrder, WorldOrderLine
from integrations.sandbox.server import HttpError, Request, Response, SandboxAPI, route

# `edited`: an order changed after submission; it leaves the approved list until it is approved again.
STATUSES = ("draft", "review", "pending", "approved", "edited", "processed", "shipped", "cancelled")
ALIASES = {"process": "processed", "cancel": "cancelled", "ship": "shipped", "approve": "approved"}
ID = r"(?P<{}>[^/]+)"


class NuOrderSandbox(SandboxAPI):
    name = "nuorder"
    credentials: ClassVar[dict[str, str]] = {
        "consumer_key": "sandbox-nuorder-consumer",
        "consumer_secret": "sandbox-nuorder-consumer-secret-5d1c",
        "token": "sandbox-nuorder-token",
        "token_secret": "sandbox-nuorder-token-secret-9e7a",
    }
    # The brand's warehouses are named in the channel's settings: NuORDER has no call that lists them.
    channel_settings: ClassVar[dict[str, Any]] = {
        "season": seeding.SEASON,
        "warehouses": [name for name, _, _ in seeding.WAREHOUSES],
    }
    accept_legacy: bool = False  # the class default; reset() copies it to the instance

    def reset(self) -> None:
        self.ids = seeding.Ids()
        self.nonces: set[tuple[str, str, int]] = set()
        self._nonces_by_arrival: deque[tuple[str, str, int]] = deque()  # forgotten from the oldest (authenticate)
        self.accept_legacy = type(self).accept_legacy
        self.max_skew = 300  # seconds a signature's timestamp may be off (a replay of recorded calls raises it)
        self._last = 0.0
        at = seeding.iso(datetime(2026, 10, 1, tzinfo=UTC))
        self.products = seeding.build_products(self.world, self.ids, at)
        self.warehouses = seeding.build_warehouses(self.ids)
        self.companies = seeding.build_companies(self.world, self.ids, at)
        self.inventory = InventoryStore(seeding.build_inventory(self.world, self.products))
        self.orders: dict[str, dict[str, Any]] = {}
        # Products whose inventory posts NuORDER answers 200 `{"success": false, "message": …}`, unapplied
        # (what a portal does with, e.g., a locked product): {product _id: message}.
        self.inventory_refusals: dict[str, str] = {}
        for n, order in enumerate(self.world.orders):
            self._store_order(order, status=seeding.STATUS_BY_INDEX.get(n, "approved"))

    # Auth and errors

    def authenticate(self, request: Request) -> None:
        query = urlsplit(request.url).query
        url = f"http://{request.header('host')}{request.path}" + (f"?{query}" if query else "")
        try:
            signed = verify_request(
                method=request.method,
                url=url,
                authorization=request.header("authorization"),
                secrets_for=self._secrets,
                body=request.body,
                content_type=request.header("content-type"),
                accept_legacy=self.accept_legacy,
                max_skew=self.max_skew,
            )
        except SignatureError as exc:
            raise HttpError(401, f"Unauthorized: {exc}") from None
        with self.lock:
            seen = (signed.consumer_key, signed.nonce, signed.timestamp)
            if seen in self.nonces:
                raise HttpError(401, "Unauthorized: nonce already used")
            self.nonces.add(seen)
            self._nonces_by_arrival.append(seen)
            # A long-running sandbox forgets what the clock check refuses anyway, oldest first: one look per call
            # (rebuilding the set on every call once it held 50,000 took most of the full-size day's sandbox).
            # The clock check passed this call, so it is never forgotten itself, whatever max_skew a replay set.
            forget_before = time.time() - 2 * self.max_skew
            while self._nonces_by_arrival[0][2] < forget_before:
                self.nonces.discard(self._nonces_by_arrival.popleft())

    def _secrets(self, consumer_key: str, token: str) -> tuple[str, str] | None:
        creds = self.credentials
        if consumer_key == creds["consumer_key"] and token == creds["token"]:
            return creds["consumer_secret"], creds["token_secret"]
        return None

    def error_body(self, status: int, message: str) -> Any:
        return {"code": status, "message": message}

    # Orders

    @route("GET", r"/api/orders/(?P<status>\w+)/list")
    def orders_list(self, request: Request, status: str) -> list[str]:
        return [o["_id"] for o in self._orders_with(status)]

    @route("GET", r"/api/orders/(?P<status>\w+)/detail")
    def orders_detail(self, request: Request, status: str) -> list[dict]:
        return self._orders_with(status)

    @route("GET", r"/api/order/number/" + ID.format("number"))
    def order_get_by_number(self, request: Request, number: str) -> dict:
        return self._order_numbered(number)

    @route("POST", r"/api/order/number/" + ID.format("number") + "/status")
    def order_status_by_number(self, request: Request, number: str) -> dict:
        return self._set_status(self._order_numbered(number), self._body(request).get("status"))

    @route("PUT", r"/api/order/number/" + ID.format("number") + r"/(?P<status>\w+)")
    def order_status_by_number_path(self, request: Request, number: str, status: str) -> dict:
        return self._set_status(self._order_numbered(number), status)

    @route("GET", r"/api/order/" + ID.format("order_id"))
    def order_get(self, request: Request, order_id: str) -> dict:
        return self._order(order_id)

    @route("POST", r"/api/order/" + ID.format("order_id"))
    def order_update(self, request: Request, order_id: str) -> dict:
        return self._update(self._order(order_id), self._body(request))

    @route("POST", r"/api/order/" + ID.format("order_id") + r"/set/(?P<name>\w+)/(?P<value>[^/]*)")
    def order_set(self, request: Request, order_id: str, name: str, value: str) -> dict:
        return self._update(self._order(order_id), {name: unquote(value)})

    @route("POST", r"/api/order/" + ID.format("order_id") + r"/(?P<action>\w+)")
    def order_status(self, request: Request, order_id: str, action: str) -> dict:
        order = self._order(order_id)
        status = self._body(request).get("status") if action == "status" else action
        return self._set_status(order, status)

    def _orders_with(self, status: str) -> list[dict]:
        if status == "edited":  # the filter also lists orders flagged edited in any status
            return [o for o in self.orders.values() if o.get("edited") or o["status"] == "edited"]
        status = self._status(status)
        return [o for o in self.orders.values() if o["status"] == status]

    def _order(self, order_id: str) -> dict:
        order = self.orders.get(unquote(order_id))
        if order is None:
            raise HttpError(404, f"Order {unquote(order_id)} not found")
        return order

    def _order_numbered(self, number: str) -> dict:
        order = self.order_by_number(unquote(number))
        if order is None:
            raise HttpError(404, f"Order number {unquote(number)} not found")
        return order

    def _status(self, value: Any) -> str:
        status = ALIASES.get(str(value).lower(), str(value).lower())
        if status not in STATUSES:
            raise HttpError(400, f"Unknown order status '{value}'")
        return status

    def _set_status(self, order: dict, status: Any) -> dict:
        order["status"] = self._status(status)
        order["modified_on"] = self._now()
        return order

    def _update(self, order: dict, changes: Any) -> dict:
        check_order_update(order, changes, self.order_by_number)
        if "status" in changes:
            changes = {**changes, "status": self._status(changes["status"])}
        if "order_number" in changes:
            changes = {**changes, "order_number": str(changes["order_number"])}
        order.update(changes)
        order["modified_on"] = self._now()
        return order

    # Products and inventory

    @route("PUT", r"/api/product/new")
    def product_create(self, request: Request) -> Response:
        body = self._product_body(request)
        if self.product_by_style(body["style_number"], body.get("color", ""), body.get("season", "")):
            raise HttpError(409, "A product with this season, style number and color already exists")
        return Response(201, self._create_product(body))

    @route("PUT", r"/api/product/new/force")
    def product_upsert(self, request: Request) -> dict:
        body = self._product_body(request)
        existing = self.product_by_style(body["style_number"], body.get("color", ""), body.get("season", ""))
        if existing is None:
            return self._create_product(body)
        existing.update(body)
        existing["modified_on"] = self._now()
        return existing

    @route("GET", r"/api/products/list")
    def products_list(self, request: Request) -> list[str]:
        return list(self.products)

    @route("GET", r"/api/product/" + ID.format("product_id"))
    def product_get(self, request: Request, product_id: str) -> dict:
        product = self._product(product_id)
        return {**product, "warehouses": self.inventory.view(product)}

    @route("POST", r"/api/product/" + ID.format("product_id"))
    def product_update(self, request: Request, product_id: str) -> dict:
        product, body = self._product(product_id), self._body(request)
        key = (body.get("style_number", product["style_number"]), body.get("color", product.get("color", "")))
        other = self.product_by_style(*key, body.get("season", product.get("season", "")))
        if other is not None and other is not product:
            raise HttpError(409, "A product with this season, style number and color already exists")
        product.update({k: v for k, v in body.items() if k != "_id"})
        product["modified_on"] = self._now()
        return product

    @route("POST", r"/api/inventory/" + ID.format("product_id"))
    def inventory_set(self, request: Request, product_id: str) -> dict:
        product = self._product(product_id)
        if product["_id"] in self.inventory_refusals:
            return {"success": False, "message": self.inventory_refusals[product["_id"]]}
        self.inventory.apply(product, self._body(request), {w["name"] for w in self.warehouses})
        return {"success": True}

    @route("POST", r"/api/inventory/external_id/" + ID.format("external_id"))
    def inventory_set_by_external_id(self, request: Request, external_id: str) -> dict:
        product = next((p for p in self.products.values() if p.get("external_id") == unquote(external_id)), None)
        if product is None:
            raise HttpError(404, f"No product with external_id {unquote(external_id)}")
        self.inventory.apply(product, self._body(request), {w["name"] for w in self.warehouses})
        return {"success": True}

    def _product(self, product_id: str) -> dict:
        product = self.products.get(unquote(product_id))
        if product is None:
            raise HttpError(404, f"Product {unquote(product_id)} not found")
        return product

    def _product_body(self, request: Request) -> dict:
        body = self._body(request)
        if not body.get("style_number"):
            raise HttpError(400, "style_number is required")
        sizes = body.get("sizes", [])
        if not isinstance(sizes, list) or not all(isinstance(s, dict) and "size" in s for s in sizes):
            raise HttpError(400, "sizes must be a list of {size, upc}")
        return {k: v for k, v in body.items() if k not in ("_id", "inventory", "warehouses")}

    def _create_product(self, body: dict) -> dict:
        at = self._now()
        product = seeding.new_product(self.ids, at, style="", color="", name="", active=True)
        product.update(body)
        product["archived"] = body.get("archived", not product["active"])
        self.products[product["_id"]] = product
        return product

    # Companies and warehouses

    @route("GET", r"/api/companies/codes/list")
    def company_codes(self, request: Request) -> list[str]:
        return list(self.companies)

    @route("PUT", r"/api/company/new/force")
    def company_upsert(self, request: Request) -> dict:
        body = self._body(request)
        if not body.get("name") or not body.get("code"):
            raise HttpError(400, "name and code are required")
        company = self.companies.get(body["code"])
        if company is None:
            company = self.companies[body["code"]] = {"_id": self.ids.new("6c"), "created_on": self._now()}
        company.update({k: v for k, v in body.items() if k != "_id"})
        company["modified_on"] = self._now()
        return company

    @route("GET", r"/api/company/" + ID.format("company_id"))
    def company_get(self, request: Request, company_id: str) -> dict:
        company = next((c for c in self.companies.values() if c["_id"] == unquote(company_id)), None)
        if company is None:
            raise HttpError(404, f"Company {unquote(company_id)} not found")
        return company

    # Helpers for tests and the demo

    def add_order(
        self, *, lines: list[tuple[str, int]] | None = None, status: str = "approved", number: str = ""
    ) -> dict:
        """A new order (by default like the first seeded one, new number), modified now."""
        template = self.world.orders[0]
        if lines:
            template = replace(
                template,
                lines=tuple(WorldOrderLine(sku, sku, qty, self.world.item(sku).wholesale_price) for sku, qty in lines),
            )
        numbers = [int(o["order_number"]) for o in self.orders.values() if o["order_number"].isdigit()]
        number = number or str(max(numbers, default=5000) + 1)
        order = self._store_order(replace(template, number=number, placed_at=datetime.now(UTC)), status=status)
        order["modified_on"] = self._now()
        return order

    def add_recorded_order(self, order: dict[str, Any]) -> dict:
        """Store an order as a real portal sent it (split numbers, no shipping address, countries as names, sizes
        without UPC, per-line warehouse and ship window): a copy, modified now; its products join the catalog."""
        with self.lock:
            stored = json.loads(json.dumps(order))
            stored.setdefault("_id", self.ids.new("6b"))
            stored["modified_on"] = self._now()
            for item in stored.get("line_items") or []:
                product = item["product"]
                if product["_id"] not in self.products:
                    at = self._now()
                    new = seeding.new_product(
                        self.ids,
                        at,
                        style=product["style_number"],
                        color=product.get("color", ""),
                        name="",
                        active=True,
                    )
                    sizes = [{k: s[k] for k in ("size", "upc") if s.get(k)} for s in item["sizes"]]
                    self.products[product["_id"]] = {**new, "_id": product["_id"], "sizes": sizes}
                if item.get("warehouse") and item["warehouse"] not in {w["name"] for w in self.warehouses}:
                    self.warehouses.append(seeding.warehouse(self.ids, item["warehouse"]))
            self.orders[stored["_id"]] = stored
            return stored

    def set_status(self, order_id: str, status: str) -> dict:
        with self.lock:
            return self._set_status(self._order(order_id), status)

    def cancel_order(self, order_id: str) -> dict:
        return self.set_status(order_id, "cancelled")

    def modify_order(self, order_id: str, **fields: Any) -> dict:
        with self.lock:
            return self._update(self._order(order_id), {**fields, "edited": True})

    def order(self, order_id: str) -> dict:
        return self.orders[order_id]

    def order_by_number(self, number: str) -> dict | None:
        return next((o for o in self.orders.values() if o["order_number"] == number), None)

    def product_for_upc(self, upc: str) -> dict | None:
        return next((p for p in self.products.values() if any(s.get("upc") == upc for s in p["sizes"])), None)

    def product_by_style(self, style: str, color: str = "", season: str = seeding.SEASON) -> dict | None:
        key = (style, color or "", season or "")
        return next(
            (p for p in self.products.values() if (p["style_number"], p.get("color", ""), p.get("season", "")) == key),
            None,
        )

    def quantity(self, product_id: str, warehouse: str, size: str, bucket: str = "immediate") -> int | None:
        return self.inventory.get(product_id, warehouse, size, bucket)

    def set_quantity(
        self, product_id: str, warehouse: str, size: str, quantity: int, bucket: str = "immediate"
    ) -> None:
        with self.lock:
            self.inventory.put((product_id, warehouse, False, bucket, size), quantity)

    def _store_order(self, world_order: WorldOrder, *, status: str) -> dict:
        products_by_upc = {s["upc"]: p for p in self.products.values() for s in p["sizes"]}
        company = self.companies[seeding.company_code(world_order.customer)]
        order = seeding.order_json(
            world_order,
            order_id=self.ids.new("6b"),
            status=status,
            company=company,
            products_by_upc=products_by_upc,
            world=self.world,
        )
        self.orders[order["_id"]] = order
        return order

    def _body(self, request: Request) -> dict:
        body = request.json()
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise HttpError(400, "The body must be a JSON object")
        return body

    _clock = threading.Lock()

    def _now(self) -> str:
        """Now, strictly after the last stamp this sandbox handed out (so `since` filters see every change)."""
        with self._clock:
            self._last = max(time.time(), self._last + 0.001)
            return seeding.iso(datetime.fromtimestamp(self._last, UTC))
