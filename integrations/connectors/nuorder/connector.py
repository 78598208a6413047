"""NuORDER (B2B wholesale) as a sales channel: approved orders down, processed + the fulfillment number
back, shipments and ATS/WIP inventory up, products and companies up. Every call is OAuth 1.0a signed.

Endpoints marked [I] are inferred, not confirmed by a source (see shared/reference/channel-apis.md §2);
the sandbox implements them the same way.
"""

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, final
from urllib.parse import quote

import requests

from integrations.connectors import register_connector
from integrations.connectors.base import Connector, CredentialSpec, SettingSpec
from integrations.connectors.capabilities import (
    CancellationSource,
    CustomerSink,
    OrderAcknowledger,
    OrderSource,
    ProductSink,
    QuantitySink,
    QuantitySource,
    ShipmentSink,
    WarehouseSource,
)
from integrations.connectors.nuorder import parse
from integrations.connectors.records import (
    BadRecord,
    ChannelQuantity,
    CustomerRecord,
    OrderRecord,
    Product,
    QuantityResult,
    QuantityUpdate,
    ShipmentRecord,
    UploadResult,
    WarehouseRecord,
)
from integrations.http import (
    AuthFailed,
    BadResponse,
    ClientError,
    Conflict,
    HttpClient,
    NotFound,
    RateLimit,
    RetryPolicy,
    TransportError,
    body_message,
)
from integrations.oauth1 import OAuth1

# A refusal of one product/company is reported on its row; anything else (auth, server, transport) raises.
REFUSED = (ClientError, Conflict, NotFound, BadResponse)
DONE_STATUSES = ("processed", "shipped")
# Approved is what NuORDER's ERP guide pulls; `edited` lists orders changed after submission, which leave the
# approved list until approved again, and whose changes the hub must see. Pending, review and draft are not yet
# approved by the brand: never downloaded unless configured.
DEFAULT_STATUSES = ("approved", "edited")
NOT_YET_APPROVED = ("draft", "review", "pending")


@register_connector
@final
class NuOrderConnector(
    Connector,
    OrderSource,
    OrderAcknowledger,
    CancellationSource,
    ShipmentSink,
    QuantitySink,
    QuantitySource,
    ProductSink,
    CustomerSink,
    WarehouseSource,
):
    kind = "nuorder"
    role = "sales"
    settings_schema = (
        SettingSpec(
            "order_statuses",
            list,
            list(DEFAULT_STATUSES),
            "Order statuses to download: approved, edited (changed after submission), pending, review…",
        ),
        SettingSpec(
            "warehouses",
            list,
            ["default"],
            "NuORDER warehouse names (Admin > Brand Settings) to feed; ones named on orders and products are added "
            "as they are seen.",
        ),
        SettingSpec("currency", str, "USD", "Currency of prices sent with products."),
        SettingSpec(
            "season", str, "", "Season for uploaded products that carry none (season+style+colour is the key)."
        ),
        SettingSpec("wholesale_price_type", str, "wholesale", "Fulfillment price type sent as the wholesale price."),
        SettingSpec("retail_price_type", str, "retail", "Fulfillment price type sent as the retail price."),
        SettingSpec("use_legacy_signature", bool, False, "Sign with NuORDER's legacy hex signature, not RFC 5849."),
        SettingSpec(
            "requests_per_second",
            float,
            5.0,
            "Client-side rate limit (NuORDER documents none: the default stays conservative); 0 turns it off.",
        ),
    )
    credentials_schema = (
        CredentialSpec("consumer_key", "OAuth consumer key of the application."),
        CredentialSpec("consumer_secret", "OAuth consumer secret."),
        CredentialSpec("token", "OAuth token from the brand's approval of the application."),
        CredentialSpec("token_secret", "OAuth token secret."),
    )
    corrects_shipments = True  # the order's shipments array is rewritten whole
    # Two side effects per shipment (append it, mark the order shipped), each read back from the order first.
    upload_reads_back = True
    # Acknowledging sets the status `processed`, shipping sets `shipped`, and a status call overwrites whatever is
    # there: an acknowledgement that read the order before a shipment marked it shipped would set it back.
    ships_after_acknowledgement = True
    default_base_url = "https://next.nuorder.com"  # production; the vendor sandbox is wholesale.sandbox1.nuorder.com
    # No documented call lists the brand's warehouses: they come from the `warehouses` setting, and from the
    # warehouse names orders (per line) and products (`warehouses[]`) carry, added by the hub as it meets them.
    warehouses_listed_in_full = False
    push_batch_size = 100  # quantity rows per call; each product in it is one request (all its sizes/warehouses)

    def make_client(self, *, retry: RetryPolicy, timeout: tuple[float, float]) -> HttpClient:
        missing = [spec.name for spec in self.credentials_schema if not self.credentials.get(spec.name)]
        if missing:
            raise AuthFailed(f"credential(s) missing: {', '.join(missing)}", channel=self.label)
        auth = OAuth1(
            self.credentials["consumer_key"],
            self.credentials["consumer_secret"],
            self.credentials["token"],
            self.credentials["token_secret"],
            legacy=self.settings["use_legacy_signature"],
        )
        return HttpClient(
            channel=self.label,
            base_url=self.base_url,
            auth=auth,
            retry=retry,
            timeout=timeout,
            rate_limit=_rate_limit(self.settings["requests_per_second"]),
            error_reason=_error_reason,
        )

    def test_connection(self) -> str:
        """List the brand's company codes: the cheapest signed call."""
        codes = self._list(self.http.get("/api/companies/codes/list"), "company codes")
        return f"NuORDER answered: {len(codes)} company code(s)"

    # Orders

    def orders_download(
        self, *, since: datetime | None, until: datetime | None = None
    ) -> Iterator[OrderRecord | BadRecord]:
        """Orders in the configured statuses modified in [since, until); an unreadable one comes as a BadRecord.

        What is left out is counted for `orders_skipped`: orders outside the window, `edited` orders not yet
        approved, and, when nothing at all came down, the orders waiting in statuses not configured.
        """
        statuses = [str(s).strip().lower() for s in self.settings["order_statuses"] if str(s).strip()]
        self._skipped: Counter[str] = Counter()
        seen: set[str] = set()
        for status in statuses:
            for order in self._orders_in(status, since, until):
                # The `edited` filter also lists orders flagged edited in any status: take only those in a
                # status wanted here, never one already processed elsewhere or not yet approved.
                other = order.status if isinstance(order, OrderRecord) else status
                if status == "edited" and other not in (*statuses, "edited"):
                    self._skipped[f"edited but {other} (not in the order_statuses setting)"] += 1
                elif order.external_id not in seen:
                    seen.add(order.external_id)
                    yield order
        if not seen:
            for status in (s for s in (*NOT_YET_APPROVED, *DEFAULT_STATUSES) if s not in statuses):
                if count := len(self._list(self.http.get(f"/api/orders/{status}/list"), f"{status} order ids")):
                    self._skipped[f"{status} (not in the order_statuses setting)"] += count

    def orders_skipped(self) -> list[str]:
        """The last download's skipped orders by reason, e.g. "4 order(s) skipped: pending (not in …)"."""
        return [f"{n} order(s) skipped: {reason}" for reason, n in sorted(getattr(self, "_skipped", {}).items())]

    def cancellations_download(self, *, since: datetime | None) -> Iterator[OrderRecord | str]:
        """Cancelled orders modified since `since`; one that cannot be read comes as its bare `_id`."""
        for order in self._orders_in("cancelled", since, None):
            if isinstance(order, OrderRecord):
                yield order
            elif order.external_id:
                yield order.external_id

    def order_get(self, external_id: str) -> OrderRecord:
        """One order by its NuORDER `_id`."""
        return parse.order_from_json(self.reader, self._order_json(external_id))

    def order_get_by_number(self, number: str) -> OrderRecord:
        """One order by its order number (after acknowledgement, the fulfillment number)."""
        data = self.http.json(self.http.get(f"/api/order/number/{_seg(number)}"))
        return parse.order_from_json(self.reader, data)

    def order_acknowledge(self, *, external_id: str, fulfillment_number: str) -> None:
        """Mark processed, then replace the order number with the fulfillment number; a repeat does nothing."""
        order = self._order_json(external_id)
        status = self.reader.field(order, "status", f"order {external_id}")
        if status == "cancelled":
            raise Conflict("the order is cancelled on NuORDER", channel=self.label)
        if status not in DONE_STATUSES:
            # Setting a status is idempotent, so a retry after a lost answer cannot do harm.
            self._write(f"/api/order/{_seg(external_id)}/processed")
        if self.reader.field(order, "order_number", f"order {external_id}") != fulfillment_number:
            self._write(f"/api/order/{_seg(external_id)}", {"order_number": fulfillment_number})

    def _orders_in(
        self, status: str, since: datetime | None, until: datetime | None
    ) -> Iterator[OrderRecord | BadRecord]:
        # The whole array comes back at once [V-code]; whether the server pages it is unknown [I].
        for data in self._list(self.http.get(f"/api/orders/{_seg(status)}/detail"), f"{status} orders"):
            try:
                updated = parse.order_updated_at(self.reader, data)
                if updated is not None and ((since and updated < since) or (until and updated >= until)):
                    self._skipped["changed outside the window read"] += 1
                    continue
                order: OrderRecord | BadRecord = parse.order_from_json(self.reader, data)
            except BadResponse as exc:
                order_id = data.get("_id") if isinstance(data, dict) else None
                order = BadRecord(external_id=str(order_id or ""), reason=exc.reason, raw=data)
            yield order

    def _order_json(self, external_id: str) -> dict[str, Any]:
        data = self.http.json(self.http.get(f"/api/order/{_seg(external_id)}"))
        self.reader.field(data, "_id", "order")
        return data

    # Shipments: stored inside the order; no endpoint creates one on its own [I].

    def shipments_list(self, external_id: str) -> list[ShipmentRecord]:
        """The shipments NuORDER already holds for an order."""
        return parse.shipments_from_json(self.reader, self._order_json(external_id))

    def shipment_upload(self, *, external_id: str, shipment: ShipmentRecord) -> None:
        """Append the shipment to the order unless it is there; mark shipped only when the order is complete.

        Each step reads the order first, so calling this again after a failure between the two calls (a 5xx,
        a timeout, a crash) only does what is missing: the hub calls it again for a shipment already held.
        """
        order = self._order_json(external_id)
        existing = list(self.reader.opt(order, "shipments", []))
        if not parse.shipment_exists(existing, shipment):
            entry = parse.shipment_to_json(self.reader, order, shipment)
            # The body sets the whole array, so sending it twice leaves the same order: safe to retry.
            self._write(f"/api/order/{_seg(external_id)}", {"shipments": [*existing, entry]})
        if shipment.order_complete and order.get("status") != "shipped":
            self._write(f"/api/order/{_seg(external_id)}/shipped")

    def shipment_correct(self, *, external_id: str, shipment: ShipmentRecord, held: ShipmentRecord) -> None:
        """Replace the order's entry for the shipment with one carrying the new tracking, carrier and service."""
        order = self._order_json(external_id)
        existing = list(self.reader.opt(order, "shipments", []))
        entry = parse.shipment_to_json(self.reader, order, shipment)
        body = {"shipments": [entry if parse.shipment_exists([e], held) else e for e in existing]}
        # The body sets the whole array, so sending it twice leaves the same order: safe to retry.
        self._write(f"/api/order/{_seg(external_id)}", body)

    # Inventory

    def quantities_push(self, updates: Sequence[QuantityUpdate]) -> list[QuantityResult]:
        """Set ATS and WIP per warehouse and size, one request per product; refused products fail their rows."""
        results: dict[int, QuantityResult] = {}
        by_product: dict[str, list[int]] = {}
        for i, update in enumerate(updates):
            if update.mode != "absolute":
                results[i] = _failed(update, "NuORDER takes absolute quantities only")
            elif not update.product_id:
                results[i] = _failed(update, "no NuORDER product id")
            else:
                by_product.setdefault(update.product_id, []).append(i)
        for product_id, rows in by_product.items():
            error = self._push_product(product_id, [updates[i] for i in rows])
            for i in rows:
                results[i] = _failed(updates[i], error) if error else _accepted(updates[i])
        return [results[i] for i in range(len(updates))]

    def _push_product(self, product_id: str, updates: list[QuantityUpdate]) -> str:
        """'' when NuORDER took the product's quantities, else its reason; an unreadable answer raises."""
        body = parse.inventory_to_json(updates)
        path = f"/api/inventory/{_seg(product_id)}"
        try:
            # An absolute set: repeating it after a lost answer leaves the same quantities.
            response = self.http.post(path, json_body=body, safe_to_retry=True)
        except REFUSED as exc:
            return exc.reason
        answer = self._answer(response, path)
        # NuORDER answers 200 `{"success": true}`; a 200 with `success: false` is a refusal, not a success.
        if isinstance(answer, dict) and answer.get("success") is True:
            return ""
        if isinstance(answer, dict) and answer.get("success") is False:
            return str(answer.get("message") or answer.get("error") or "NuORDER answered success: false")
        raise _unknown(self.label, path, f"answered {str(answer)[:80]!r}, not success true or false")

    def _answer(self, response: requests.Response, path: str) -> Any:
        """The body of a write's 2xx answer; one the hub cannot read is an unknown outcome, like a timeout."""
        try:
            return self.http.json(response)
        except BadResponse as exc:
            raise _unknown(self.label, path, exc.reason) from None

    def _write(self, path: str, body: dict[str, Any] | None = None) -> None:
        """POST a write NuORDER may safely repeat (a whole-field set or a status) and check its answer is readable."""
        self._answer(self.http.post(path, json_body=body, safe_to_retry=True), path)

    def quantities_download(
        self, *, skus: Sequence[str] | None = None, product_ids: Sequence[str] | None = None
    ) -> Iterator[ChannelQuantity]:
        """ATS per warehouse and size as NuORDER holds it; pass the mapped product ids to read only those."""
        wanted = set(skus) if skus is not None else None
        for product in self._products(product_ids):
            for quantity in parse.quantities_from_product(self.reader, product):
                if wanted is None or quantity.sku in wanted:
                    yield quantity

    def warehouses_download(self) -> list[WarehouseRecord]:
        """The warehouses the `warehouses` setting names (no call: NuORDER documents no warehouse list); the name
        is the id inventory pushes use. Others appear as orders and products name them (see the class)."""
        names = dict.fromkeys(str(n).strip() for n in self.settings["warehouses"] if str(n).strip())
        return [WarehouseRecord(external_id=name, name=name, code=name) for name in names]

    # Catalog and customers

    def products_upload(self, products: Sequence[Product]) -> list[UploadResult]:
        """Create or update each product (season+style+colour is NuORDER's key); the result carries its `_id`."""
        season, currency = self.settings["season"], self.settings["currency"]
        return [
            self._upsert(
                "/api/product/new/force", p.external_id, parse.product_to_json(p, season=season, currency=currency)
            )
            for p in products
        ]

    def customers_upload(self, customers: Sequence[CustomerRecord]) -> list[UploadResult]:
        """Create or update each customer as a NuORDER company (keyed by code); the result carries its `_id`."""
        currency = self.settings["currency"]
        return [
            self._upsert("/api/company/new/force", c.external_id, parse.company_to_json(c, currency=currency))
            for c in customers
        ]

    def _upsert(self, path: str, external_id: str, body: dict[str, Any]) -> UploadResult:
        try:
            data = self.http.json(self.http.put(path, json_body=body))  # PUT: idempotent upsert, retried
            channel_id = str(self.reader.field(data, "_id", path))
        except REFUSED as exc:
            return UploadResult(external_id=external_id, ok=False, error=exc.reason)
        return UploadResult(external_id=external_id, ok=True, channel_id=channel_id)

    def _products(self, product_ids: Sequence[str] | None) -> Iterator[dict[str, Any]]:
        if product_ids is None:
            product_ids = [str(i) for i in self._list(self.http.get("/api/products/list"), "product ids")]  # [I]
        for product_id in product_ids:
            try:
                yield self.http.json(self.http.get(f"/api/product/{_seg(product_id)}"))
            except NotFound:
                continue  # deleted since it was listed or mapped: it holds nothing

    def _list(self, response: requests.Response, what: str) -> list[Any]:
        data = self.http.json(response)
        if not isinstance(data, list):
            raise BadResponse(f"expected a list of {what}, got {type(data).__name__}", channel=self.label)
        return data


def _rate_limit(per_second: float) -> RateLimit | None:
    """A burst of one second's worth, then the steady rate; none at 0."""
    return RateLimit(per_second=per_second, burst=max(1, int(per_second))) if per_second > 0 else None


def _seg(value: str) -> str:
    return quote(str(value), safe="")


def _unknown(channel: str, path: str, reason: str) -> TransportError:
    # The write was sent and answered 2xx, but what happened cannot be told: the caller reads back, as after a
    # timeout, instead of counting it done.
    return TransportError(f"{reason}: outcome unknown", outcome_unknown=True, channel=channel, method="POST", path=path)


def _failed(update: QuantityUpdate, error: str) -> QuantityResult:
    return QuantityResult(sku=update.sku, warehouse_id=update.warehouse_id, ok=False, error=error)


def _accepted(update: QuantityUpdate) -> QuantityResult:
    return QuantityResult(sku=update.sku, warehouse_id=update.warehouse_id, ok=True)


def _error_reason(response: requests.Response) -> str:
    """NuORDER errors are `{"code": 400, "message": "…"}`."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return body_message(body)
