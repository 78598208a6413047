"""ChannelAdvisor REST API v1 routes over the account state: OAuth2 refresh-token grant, OData lists,
order export flags, Ship, fulfillment updates, products with UpdateQuantity, distribution centers,
profiles, and rate limits."""

import base64
import binascii
import hmac
import secrets
import time
from collections import deque
from typing import Any, ClassVar

from integrations.sandbox.channeladvisor import odata
from integrations.sandbox.channeladvisor.state import CARRIERS, PROFILES, SHIPPED_STATUSES, AccountState
from integrations.sandbox.server import HttpError, Request, Response, SandboxAPI, route

ORDER = r"/v1/Orders\((?P<order_id>\d+)\)"
PRODUCT = r"/v1/Products\((?P<product_id>\d+)\)"
UPDATE_TYPES = ("Absolute", "Relative", "Available", "InStock", "UnShipped", "Unconfirmed")
EXPANDED_LIMIT = 20  # list endpoints cut every expanded collection at 20 rows
FULFILLMENT_FIELDS = ("TrackingNumber", "ShippingCarrier", "ShippingClass", "TrackingUrl", "ShippedDateUtc")


class ChannelAdvisorSandbox(AccountState, SandboxAPI):
    name = "channeladvisor"
    credentials: ClassVar[dict[str, str]] = {
        "application_id": "ca-sandbox-app-4d1e",
        "shared_secret": "ca-sandbox-secret-9b7f2c",
        "refresh_token": "ca-sandbox-refresh-51c8e0a3",
    }
    channel_settings: ClassVar[dict[str, Any]] = {}

    def __init__(self, world: Any):
        self.exports: dict[str, set[int]] = {}  # application id -> exported order IDs (the base reads properties)
        super().__init__(world)

    def reset(self) -> None:
        self.page_size = 100
        self.token_lifetime = 3600
        self.rate_limit_per_minute = 2000
        self.max_concurrent = 5
        self.latency = 0.0  # seconds every call takes, outside the lock, so tests can make calls overlap
        self.tokens: dict[str, tuple[str, float]] = {}  # access token -> (application id, expires at)
        self.token_grants = 0
        self.exports = {}
        self.shipments: list[dict] = []  # accepted Ship requests: {"OrderID": …, **Value}
        self.quantity_updates: list[dict] = []  # accepted UpdateQuantity requests: {"ProductID": …, **Value}
        self.fulfillment_updates: list[dict] = []  # accepted PATCH Fulfillments(ID): {"FulfillmentID": …, **body}
        self._recent: deque[float] = deque()
        self._in_flight = 0
        self.seed()

    @property
    def exported(self) -> set[int]:
        """Order IDs the sandbox application has marked exported."""
        return self.exports.setdefault(self.credentials["application_id"], set())

    def expire_tokens(self) -> None:
        """Every access token issued so far is now expired: the next API call answers 401."""
        self.tokens = {token: (app, 0.0) for token, (app, _) in self.tokens.items()}

    # Auth, rate limits, errors.

    def error_body(self, status: int, message: str) -> Any:
        """CA's two error shapes: the ASP.NET Web API layer answers 401/403 with `{"Message": …}` (capital M)
        and its rate limiter a 429 with no body at all; the OData layer `{"error": {"code", "message"}}`."""
        if status in (401, 403):
            return {"Message": message}
        if status == 429:
            return None
        return super().error_body(status, message)

    def public(self, request: Request) -> bool:
        return request.path == "/oauth2/token"

    def authenticate(self, request: Request) -> None:
        self._app(request)
        with self.lock:
            now = time.monotonic()
            while self._recent and now - self._recent[0] > 60:
                self._recent.popleft()
            if len(self._recent) >= self.rate_limit_per_minute:
                raise HttpError(429, "Too Many Requests: the request limit for this account has been reached.")
            self._recent.append(now)

    def dispatch(self, request: Request) -> Response:
        """Counts calls in progress (each taking `latency` seconds) against the concurrency cap."""
        with self.lock:
            self._in_flight += 1
            crowded = self._in_flight > self.max_concurrent and not self.public(request)
        try:
            if crowded:
                body = self.error_body(429, "Too Many Requests: too many concurrent requests.")
                return Response(429, body)
            time.sleep(self.latency)
            return super().dispatch(request)
        finally:
            with self.lock:
                self._in_flight -= 1

    def _app(self, request: Request) -> str:
        header = request.header("authorization")
        token = header[7:].strip() if header[:7].lower() == "bearer " else request.q("access_token", "")
        app, expires = self.tokens.get(token or "", ("", 0.0))
        if not app or expires < time.monotonic():
            raise HttpError(401, "Authorization has been denied for this request.")
        return app

    @route("POST", r"/oauth2/token")
    def token(self, request: Request) -> Any:
        scheme, _, encoded = request.header("authorization").partition(" ")
        try:
            app_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            app_id, secret = "", ""
        if scheme.lower() != "basic" or not (_same(app_id, "application_id") and _same(secret, "shared_secret")):
            raise HttpError(400, body={"error": "invalid_client", "error_description": "Unknown application."})
        form = request.form()
        if form.get("grant_type") != "refresh_token":
            raise HttpError(400, body={"error": "unsupported_grant_type"})
        if not _same(form.get("refresh_token", ""), "refresh_token"):
            raise HttpError(400, body={"error": "invalid_grant", "error_description": "The grant is not valid."})
        access_token = secrets.token_urlsafe(24)
        self.tokens[access_token] = (app_id, time.monotonic() + self.token_lifetime)
        self.token_grants += 1
        return {"access_token": access_token, "token_type": "bearer", "expires_in": self.token_lifetime}

    # Reads.

    @route("GET", r"/v1/Profiles")
    def list_profiles(self, request: Request) -> Any:
        return self._list(request, "Profiles", [dict(p) for p in PROFILES], "Leaf")

    @route("GET", r"/v1/DistributionCenters")
    def list_distribution_centers(self, request: Request) -> Any:
        return self._list(request, "DistributionCenters", list(self.distribution_centers.values()), "Leaf")

    @route("GET", r"/v1/Orders")
    def list_orders(self, request: Request) -> Any:
        rows = list(self.orders.values())
        exported = request.q("exported")
        if exported is not None:
            marked = self.exports.get(self._app(request), set())
            rows = [o for o in rows if (o["ID"] in marked) == (exported.lower() == "true")]
        return self._list(request, "Orders", rows, "Order", capped=True)

    @route("GET", ORDER)
    def get_order(self, request: Request, order_id: str) -> Any:
        return self._entity(request, "Orders", self._order(order_id), "Order")

    @route("GET", ORDER + r"/(?P<collection>Items|Fulfillments)")
    def list_order_collection(self, request: Request, order_id: str, collection: str) -> Any:
        rows = self._order(order_id)[collection]
        kind = "OrderItem" if collection == "Items" else "Fulfillment"
        return self._list(request, f"Orders({order_id})/{collection}", rows, kind)

    @route("GET", r"/v1/Products")
    def list_products(self, request: Request) -> Any:
        by_product = self._dc_quantities()
        views = [self._product_view(p, by_product) for p in self.products]
        return self._list(request, "Products", views, "Product", capped=True)

    @route("GET", r"/v1/Products/\$count")
    def count_products(self, request: Request) -> Any:
        keep = odata.parse_filter(request.q("$filter"))
        by_product = self._dc_quantities()
        return sum(1 for p in self.products if keep(self._product_view(p, by_product), {}))

    @route("GET", PRODUCT)
    def get_product(self, request: Request, product_id: str) -> Any:
        if int(product_id) not in self.products:
            raise HttpError(404, f"Product {product_id} was not found.")
        return self._entity(request, "Products", self._product_view(int(product_id)), "Product")

    # Writes.

    @route("POST", ORDER + r"/Export")
    def export_order(self, request: Request, order_id: str) -> Response:
        self.exports.setdefault(self._app(request), set()).add(self._order(order_id)["ID"])
        return Response(204)

    @route("DELETE", ORDER + r"/Export")
    def unexport_order(self, request: Request, order_id: str) -> Response:
        self.exports.setdefault(self._app(request), set()).discard(self._order(order_id)["ID"])
        return Response(204)

    @route("POST", ORDER + r"/Ship")
    def ship_order(self, request: Request, order_id: str) -> Response:
        order = self._order(order_id)
        value = _value(request)
        carrier, klass = value.get("ShippingCarrier"), value.get("ShippingClass")
        if carrier not in CARRIERS:
            raise HttpError(400, f"The ShippingCarrier '{carrier}' is not valid for this account.")
        if klass not in CARRIERS[carrier]:
            raise HttpError(400, f"The ShippingClass '{klass}' is not valid for carrier '{carrier}'.")
        dc_id = value.get("DistributionCenterID")
        if dc_id is not None and (
            dc_id not in self.distribution_centers or self.distribution_centers[dc_id]["IsDeleted"]
        ):
            raise HttpError(400, f"The DistributionCenterID '{dc_id}' is not valid for this account.")
        if order["ShippingStatus"] in ("Canceled", "Shipped"):
            raise HttpError(400, f"Order {order['ID']} is {order['ShippingStatus']} and cannot be shipped.")
        shipped = self._ship_quantities(order, value.get("Items"))
        self._add_fulfillment(order, value, shipped)
        self.shipments.append({"OrderID": order["ID"], **value})
        return Response(204)

    @route("PATCH", r"/v1/Fulfillments\((?P<fulfillment_id>\d+)\)")
    def update_fulfillment(self, request: Request, fulfillment_id: str) -> Response:
        """Set a fulfillment's tracking, carrier and class; leaving DeliveryStatus out marks it shipped, as CA
        does (send NoChange to keep it)."""
        body = request.json()
        if not isinstance(body, dict):
            raise HttpError(400, "The request body must be a JSON object of the fields to change.")
        order, fulfillment = self._fulfillment(int(fulfillment_id))
        carrier = body.get("ShippingCarrier", fulfillment["ShippingCarrier"])
        klass = body.get("ShippingClass", fulfillment["ShippingClass"])
        if carrier not in CARRIERS:
            raise HttpError(400, f"The ShippingCarrier '{carrier}' is not valid for this account.")
        if klass not in CARRIERS[carrier]:
            raise HttpError(400, f"The ShippingClass '{klass}' is not valid for carrier '{carrier}'.")
        status = body.get("DeliveryStatus", "Complete")
        changes = {name: body[name] for name in FULFILLMENT_FIELDS if name in body}
        fulfillment |= changes | {"UpdatedDateUtc": odata.format_date(self._stamp())}
        if status != "NoChange":
            fulfillment["DeliveryStatus"] = status
        order["UpdatedDateUtc"] = fulfillment["UpdatedDateUtc"]
        self.fulfillment_updates.append({"FulfillmentID": fulfillment["ID"], **body})
        return Response(204)

    @route("POST", PRODUCT + r"/UpdateQuantity")
    def update_quantity(self, request: Request, product_id: str) -> Response:
        product = self.products.get(int(product_id))
        if product is None:
            raise HttpError(404, f"Product {product_id} was not found.")
        value = _value(request)
        update_type, updates = value.get("UpdateType"), value.get("Updates")
        if update_type not in UPDATE_TYPES:  # case-sensitive, as CA's enum is
            raise HttpError(400, f"The UpdateType '{update_type}' is not valid.")
        if not isinstance(updates, list) or not updates:
            raise HttpError(400, "Updates must list at least one distribution center.")
        for row in updates:
            dc = self.distribution_centers.get(row.get("DistributionCenterID") if isinstance(row, dict) else None)
            if dc is None or dc["IsDeleted"] or not isinstance(row.get("Quantity"), int):
                raise HttpError(400, f"The quantity update {row!r} is not valid.")
        for row in updates:
            key = (product["ID"], row["DistributionCenterID"])
            self.quantities[key] = _new_quantity(product, update_type, self.quantities.get(key, 0), row["Quantity"])
        if value.get("CompleteDCList"):
            listed = {row["DistributionCenterID"] for row in updates}
            for key in [k for k in self.quantities if k[0] == product["ID"] and k[1] not in listed]:
                self.quantities[key] = 0
        product["QuantityUpdateDateUtc"] = odata.format_date(self._stamp())
        self.quantity_updates.append({"ProductID": product["ID"], **value})
        return Response(204)

    # Internals.

    def _list(self, request: Request, context: str, rows: list[dict], kind: str, *, capped: bool = False) -> Any:
        keep = odata.parse_filter(request.q("$filter"))
        rows = odata.order_rows([r for r in rows if keep(r, {})], request.q("$orderby"))
        expand, select = odata.parse_expand(request.q("$expand")), odata.parse_select(request.q("$select"))
        body = odata.envelope(request, self._context(context), rows, self.page_size)
        entity_set = context.split("(")[0]

        def link(row: dict) -> Any:
            return lambda name, limit: f"{self.base_url}v1/{entity_set}({row['ID']})/{name}?$skip={limit}"

        limit = EXPANDED_LIMIT if capped else None
        body["value"] = [odata.shape(r, kind, expand, select, limit=limit, link=link(r)) for r in body["value"]]
        return body

    def _entity(self, request: Request, entity_set: str, row: dict, kind: str) -> Any:
        expand, select = odata.parse_expand(request.q("$expand")), odata.parse_select(request.q("$select"))
        return {"@odata.context": self._context(f"{entity_set}/$entity"), **odata.shape(row, kind, expand, select)}

    def _context(self, name: str) -> str:
        return f"{self.base_url}v1/$metadata#{name}"

    def _fulfillment(self, fulfillment_id: int) -> tuple[dict, dict]:
        for order in self.orders.values():
            for fulfillment in order["Fulfillments"]:
                if fulfillment["ID"] == fulfillment_id:
                    return order, fulfillment
        raise HttpError(404, f"Fulfillment {fulfillment_id} was not found.")

    def _order(self, order_id: str) -> dict:
        order = self.orders.get(int(order_id))
        if order is None:
            raise HttpError(404, f"Order {order_id} was not found.")
        return order

    def _dc_quantities(self) -> dict[int, list[dict]]:
        """Every product's DCQuantities rows, in DC order: built once per list request (built per product, a
        page of a 30,000-product account read every quantity of the account for each of its products)."""
        by_product: dict[int, list[dict]] = {}
        for (pid, dc_id), quantity in sorted(self.quantities.items()):
            by_product.setdefault(pid, []).append(
                {"ProductID": pid, "DistributionCenterID": dc_id, "AvailableQuantity": quantity}
            )
        return by_product

    def _product_view(self, product_id: int, by_product: dict[int, list[dict]] | None = None) -> dict:
        product = self.products[product_id]
        if by_product is None:
            by_product = {
                product_id: [
                    {"ProductID": product_id, "DistributionCenterID": dc_id, "AvailableQuantity": quantity}
                    for (pid, dc_id), quantity in sorted(self.quantities.items())
                    if pid == product_id
                ]
            }
        rows = [dict(row) for row in by_product.get(product_id, [])]
        # A product CA holds no quantity for (never stocked, a parent) shows null totals, as recorded payloads do.
        total = sum(r["AvailableQuantity"] for r in rows) if rows else None
        return {**product, "TotalAvailableQuantity": total, "TotalQuantity": total, "DCQuantities": rows}

    def _ship_quantities(self, order: dict, items: Any) -> dict[int, int]:
        """OrderItemID → quantity to ship now; every open quantity when Items is left out."""
        open_qty = {i["ID"]: i["Quantity"] - self.shipped_quantity(order["ID"], i["ID"]) for i in order["Items"]}
        if items is None:
            return {item_id: qty for item_id, qty in open_qty.items() if qty > 0}
        shipped: dict[int, int] = {}
        for row in items if isinstance(items, list) else [None]:
            item_id: Any = row.get("OrderItemID") if isinstance(row, dict) else None
            quantity = row.get("Quantity") if isinstance(row, dict) else None
            if item_id not in open_qty:
                raise HttpError(400, f"Order item {item_id} does not belong to order {order['ID']}.")
            if not isinstance(quantity, int) or not 0 < quantity + shipped.get(item_id, 0) <= open_qty[item_id]:
                message = f"Quantity {quantity} of order item {item_id} exceeds its unshipped quantity."
                raise HttpError(400, message)
            shipped[item_id] = shipped.get(item_id, 0) + quantity
        return shipped

    def _add_fulfillment(self, order: dict, value: dict, shipped: dict[int, int]) -> None:
        stamp = odata.format_date(self._stamp())
        pending = [f for f in order["Fulfillments"] if f["DeliveryStatus"] not in SHIPPED_STATUSES]
        dc_id = value.get("DistributionCenterID") or (pending[0]["DistributionCenterID"] if pending else 0)
        fulfillment = self._new_fulfillment(order, dc_id, stamp)
        items = {i["ID"]: i for i in order["Items"]}
        for item_id, quantity in shipped.items():
            fulfillment["Items"].append(self._fulfillment_item(fulfillment, items[item_id], quantity))
            _take_from_pending(pending, item_id, quantity)
        fulfillment |= {
            "CreatedDateUtc": stamp,
            "UpdatedDateUtc": stamp,
            "Type": value.get("FulfillmentType") or "Ship",
            "DeliveryStatus": value.get("DeliveryStatus") or "Complete",
            "TrackingNumber": value.get("TrackingNumber"),
            "ShippingCarrier": value.get("ShippingCarrier"),
            "ShippingClass": value.get("ShippingClass"),
            "SellerFulfillmentID": value.get("SellerFulfillmentID"),
            "ShippedDateUtc": value.get("ShippedDateUtc") or stamp,
        }
        order["Fulfillments"] = [f for f in order["Fulfillments"] if f["Items"]] + [fulfillment]
        done = all(self.shipped_quantity(order["ID"], i["ID"]) >= i["Quantity"] for i in order["Items"])
        order |= {"ShippingStatus": "Shipped" if done else "PartiallyShipped", "UpdatedDateUtc": stamp}
        order["ShippingDateUtc"] = order["ShippingDateUtc"] or stamp


def _take_from_pending(pending: list[dict], item_id: int, quantity: int) -> None:
    for fulfillment in pending:
        for row in fulfillment["Items"]:
            if row["OrderItemID"] == item_id and quantity > 0:
                taken = min(row["Quantity"], quantity)
                row["Quantity"] -= taken
                quantity -= taken
        fulfillment["Items"] = [row for row in fulfillment["Items"] if row["Quantity"] > 0]


def _new_quantity(product: dict, update_type: str, current: int, quantity: int) -> int:
    """CA's UpdateType maths: Relative adds; the others set, less what CA already holds for open orders."""
    if update_type == "Relative":
        return current + quantity
    pending = 0
    if update_type in ("InStock", "UnShipped"):
        pending += product["PendingCheckoutQuantity"] + product["PendingPaymentQuantity"]
    if update_type == "UnShipped":
        pending += product["PendingShipmentQuantity"]
    return max(0, quantity - pending)


def _value(request: Request) -> dict:
    body = request.json()
    if not isinstance(body, dict) or not isinstance(body.get("Value"), dict):
        raise HttpError(400, 'The request body must be a JSON object {"Value": {...}}.')
    return body["Value"]


def _same(given: str, name: str) -> bool:
    return hmac.compare_digest(given.encode(), ChannelAdvisorSandbox.credentials[name].encode())
