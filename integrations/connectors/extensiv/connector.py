"""The Order Manager connector class; what it does about the API's gaps is in the package docstring."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar, final

import requests

from integrations.connectors import register_connector
from integrations.connectors.base import Connector, CredentialSpec, SettingsError, SettingSpec
from integrations.connectors.capabilities import (
    CancellationSource,
    ListingSource,
    OrderSource,
    QuantitySink,
    QuantitySource,
    ShipmentSink,
    WarehouseSource,
)
from integrations.connectors.extensiv import parse
from integrations.connectors.extensiv.auth import BearerToken, auth_url
from integrations.connectors.extensiv.inventory import InventoryMixin
from integrations.connectors.records import Listing, OrderRecord, ShipmentRecord, WarehouseRecord
from integrations.http import (
    AuthFailed,
    BadResponse,
    ClientError,
    HttpClient,
    NotFound,
    RateLimit,
    RetryPolicy,
    TransportError,
)
from integrations.redaction import secrets_remember

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # a window start before any order, when the flow gives none
PRODUCT_LOOKUP_BATCH = 10  # master SKUs per /v1.1/products?sku= call, as the public clients batch them


@register_connector
@final
class ExtensivConnector(
    InventoryMixin,
    Connector,
    OrderSource,
    CancellationSource,
    ShipmentSink,
    QuantitySink,
    QuantitySource,
    ListingSource,
    WarehouseSource,
):
    kind = "extensiv"
    role = "sales"
    confirms_whole_order = True  # PUT /v1.1/shipment/external marks the order SHIPPED (reference 3.5, 3.7)
    push_batch_size = 200  # the adjust_batch_size setting lowers it per channel
    # One sender per push: each connector reads every listing and each warehouse's stock locations before its
    # first adjust (chunks of 1,000 listings would read a 100,000-product catalog 100 times), and OM takes about
    # one adjust batch per 10 s for the account, which chunk tasks in several processes would exceed.
    push_fans_out = False
    rate_limit = RateLimit(per_second=5, burst=5)  # the requests_per_second setting overrides it
    default_base_url = "https://api.skubana.com"
    settings_schema: ClassVar[tuple[SettingSpec, ...]] = (
        SettingSpec("warehouse_id", str, "", "Download only orders fulfilled from this OM warehouse id."),
        SettingSpec("order_statuses", list, ["AWAITING_SHIPMENT"], "Order statuses to download; empty: all."),
        SettingSpec("page_size", int, 100, "Rows per page on list calls (1-500)."),
        SettingSpec(
            "inventory_mode",
            str,
            "per_warehouse",
            "per_warehouse: each OM warehouse is a channel warehouse; per_sales_channel: one figure into "
            "sync_warehouse, split among sales channels by OM.",
            choices=("per_warehouse", "per_sales_channel"),
        ),
        SettingSpec("sync_warehouse", str, "", "Sync only this OM warehouse (id or name); empty: every warehouse."),
        SettingSpec("excluded_warehouses", list, [], "OM warehouses (ids or names) never synced, e.g. FBA."),
        SettingSpec("use_listing_sku", bool, True, "Channel SKUs are OM listing SKUs (else OM master SKUs)."),
        SettingSpec("adjust_batch_size", int, 200, "Rows per inventory-adjust call (1-200)."),
        SettingSpec("adjust_interval", float, 10.0, "Seconds between inventory-adjust calls; 0: no pause."),
        SettingSpec(
            "stock_locations",
            list,
            [],
            "Per-warehouse override of the stock location adjusted, as warehouse=location (OM id or name), e.g. "
            "101=A-01; other warehouses: each product's location read from OM (3PL: GLOBAL).",
        ),
        SettingSpec(
            "stock_location_name",
            str,
            "",
            "Deprecated and ignored: one location cannot serve every warehouse; use stock_locations.",
        ),
        SettingSpec("requests_per_second", float, 5.0, "Client-side rate limit; 0 turns it off."),
        SettingSpec("notify_customer", bool, False, "Ask OM to e-mail the buyer on a shipment upload."),
        SettingSpec(
            "inferred_shipment_fields",
            bool,
            False,
            "Inferred, not in the documented body: also send each parcel's shipDate and shipMethod.shippingService.",
        ),
        SettingSpec("auth_base_url", str, "", "OM's app host for /oauth/token; empty: derived from the API host."),
        SettingSpec("redirect_uri", str, "", "The app's redirect URL, sent with the code exchange."),
    )
    credentials_schema: ClassVar[tuple[CredentialSpec, ...]] = (
        CredentialSpec("access_token", "The Bearer token of the app install (long-lived).", required=False),
        CredentialSpec("app_key", "The app key, for exchanging an install code.", required=False),
        CredentialSpec("app_secret", "The app secret, for exchanging an install code.", required=False),
        CredentialSpec("code", "A one-time install code; exchanged for an access token on first use.", required=False),
    )

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        if not 1 <= self.settings["adjust_batch_size"] <= 200:
            raise SettingsError("setting 'adjust_batch_size' must be between 1 and 200")
        if not 1 <= self.settings["page_size"] <= 500:
            raise SettingsError("setting 'page_size' must be between 1 and 500")
        if self.settings["inventory_mode"] == "per_sales_channel" and not self.settings["sync_warehouse"]:
            raise SettingsError("inventory_mode per_sales_channel needs sync_warehouse")
        self.push_batch_size = self.settings["adjust_batch_size"]
        self._warehouse_rows: list[dict[str, Any]] | None = None
        self._listing_rows: dict[str, dict[str, Any]] | None = None
        self._stock_locations: dict[str, dict[str, list[str]]] = {}

    def make_client(self, *, retry: RetryPolicy, timeout: tuple[float, float]) -> HttpClient:
        per_second = self.settings["requests_per_second"]
        return HttpClient(
            channel=self.label,
            base_url=self.base_url,
            auth=BearerToken(self.credentials),
            retry=retry,
            timeout=timeout,
            rate_limit=RateLimit(per_second=per_second, burst=max(1, int(per_second))) if per_second > 0 else None,
            retry_after=parse.retry_after,
            error_reason=parse.error_reason,
        )

    # Auth.

    def test_connection(self) -> str:
        """List the warehouses: the cheapest authenticated call."""
        names = [str(row.get("name")) for row in self._warehouses()]
        return f"connected; {len(names)} warehouse(s): {', '.join(names) or 'none'}"

    def token_exchange(self, *, code: str = "", redirect_uri: str = "") -> str:
        """Trade the one-time install code for an access token, kept in self.credentials and saved on the
        channel at once (the code is dropped: it cannot be used twice)."""
        app_key, app_secret = self.credentials.get("app_key"), self.credentials.get("app_secret")
        code = code or self.credentials.get("code") or ""
        if not (app_key and app_secret and code):
            raise AuthFailed("an access token needs app_key, app_secret and an install code", channel=self.label)
        params = {"grant_type": "authorization_code", "code": code}
        if redirect_uri or self.settings["redirect_uri"]:
            params["redirect_uri"] = redirect_uri or self.settings["redirect_uri"]
        # A POST with a one-time code: never repeated, as a second try could only fail (the code is spent).
        response = self.http.post(
            self._auth_url("oauth/token"), params=params, auth=requests.auth.HTTPBasicAuth(app_key, app_secret)
        )
        token = self.reader.field(self.http.json(response), "access_token", "the token answer", kind=str)
        secrets_remember([token])
        self.credentials["access_token"] = token
        self.credentials.pop("code", None)
        self.credentials_changed()
        return token

    def _auth_url(self, path: str) -> str:
        return auth_url(self.base_url, self.settings["auth_base_url"], path)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        if not self.credentials.get("access_token"):
            if not self.credentials.get("code"):
                raise AuthFailed("no access token: install the app in Order Manager", channel=self.label)
            self.token_exchange()
        return self.http.json(self.http.request(method, path, **kwargs))

    def _pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every row of a paged list: page 1, 2, … until OM answers an empty page."""
        limit, page = self.settings["page_size"], 1
        while True:
            rows = self._call("GET", path, params={**(params or {}), "page": page, "limit": limit})
            if not isinstance(rows, list):
                raise BadResponse(f"expected an array from {path}, got {type(rows).__name__}", channel=self.label)
            if not rows:
                return
            yield from rows
            page += 1

    # Orders.

    def orders_download(self, *, since: datetime | None, until: datetime | None = None) -> Iterator[OrderRecord]:
        """Orders modified in the window, in the configured statuses (and warehouse)."""
        statuses = set(self.settings["order_statuses"])
        for row in self._order_rows(since, until):
            if not statuses or self.reader.field(row, "orderStatus", "an order") in statuses:
                yield self._order(row)

    def cancellations_download(self, *, since: datetime | None) -> Iterator[OrderRecord]:
        """Orders cancelled in OM: the modified window filtered to CANCELLED (OM has no cancellation feed)."""
        for row in self._order_rows(since, None):
            if self.reader.field(row, "orderStatus", "an order") == parse.CANCELLED:
                yield self._order(row)

    def order_get(self, external_id: str) -> OrderRecord:
        """One order by its OM orderId."""
        return self._order(self._order_row(external_id))

    def order_by_number(self, number: str) -> OrderRecord | None:
        """One order by its orderNumber, or None."""
        rows = self._call("GET", "/v1.1/orders", params={"orderNumber": number})
        match = [r for r in rows or [] if str(self.reader.field(r, "orderNumber", "an order")) == number]
        return self._order(match[0]) if match else None

    def _order_rows(self, since: datetime | None, until: datetime | None) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {
            "modifiedDateFrom": parse.om_time(since or EARLIEST),
            "modifiedDateTo": parse.om_time(until or datetime.now(UTC), round_up=True),
        }
        if self.settings["warehouse_id"]:
            params["warehouseId"] = self.settings["warehouse_id"]
        return self._pages("/v1.1/orders", params)

    def _order_row(self, external_id: str) -> dict[str, Any]:
        # Lookup by orderId is [I]; the match below also guards against a server that ignores the filter.
        rows = self._call("GET", "/v1.1/orders", params={"orderId": self._order_id(external_id)})
        for row in rows or []:
            if str(self.reader.field(row, "orderId", "an order")) == str(external_id):
                return row
        raise NotFound(f"order {external_id} not found", channel=self.label, method="GET", path="/v1.1/orders")

    def _order(self, row: Any) -> OrderRecord:
        return parse.order_record(self.reader, row, use_listing_sku=self.settings["use_listing_sku"])

    def _order_id(self, external_id: str) -> int:
        if not str(external_id).isdigit():
            raise ClientError(f"{external_id!r} is not an Order Manager orderId", channel=self.label)
        return int(external_id)

    # Shipments.

    def shipments_list(self, external_id: str) -> list[ShipmentRecord]:
        """The shipments OM already has for the order (to check before sending one again)."""
        return parse.shipment_records(self.reader, self._order_row(external_id))

    def shipment_upload(self, *, external_id: str, shipment: ShipmentRecord) -> None:
        """Confirm the whole order as shipped outside OM (PUT /v1.1/shipment/external): one entry per parcel
        (`shipment.parcels`, else the shipment itself), all in one call, as the call marks the order SHIPPED."""
        order_id = self._order_id(external_id)
        entries = [self._shipment_entry(order_id, parcel) for parcel in shipment.parcels or (shipment,)]
        body = {
            "notifyCustomer": self.settings["notify_customer"],
            "updateChannel": True,
            "shipments": entries[0] if len(entries) == 1 else entries,
        }
        # PUT, yet not idempotent here: each call records shipments. Never resend blindly (see module doc).
        try:
            self._call("PUT", "/v1.1/shipment/external", json_body=body, safe_to_retry=False)
        except BadResponse as exc:
            # A success whose body cannot be read says nothing of what OM recorded: not a refusal to leave failed
            # for a person, but an unknown outcome that the outbox settles by reading the order's shipments back.
            raise TransportError(
                f"{exc.reason}: the outcome is unknown",
                outcome_unknown=True,
                channel=self.label,
                method=exc.method,
                path=exc.path,
                status=exc.status,
            ) from None

    def _shipment_entry(self, order_id: int, parcel: ShipmentRecord) -> dict[str, Any]:
        """The documented fields (reference 3.5); shipDate and shipMethod.shippingService only when the
        `inferred_shipment_fields` setting asks for them. No per-item lines: partial confirmation is [I]."""
        entry: dict[str, Any] = {
            "orderId": order_id,
            "trackingNumber": parcel.tracking_number,
            "shipMethod": {"shippingCarrier": parcel.carrier},
        }
        if self.settings["inferred_shipment_fields"]:
            entry["shipMethod"]["shippingService"] = parcel.service
            if parcel.shipped_at:
                entry["shipDate"] = parse.om_time(parcel.shipped_at)
        return entry

    # Warehouses and listings.

    def warehouses_download(self) -> list[WarehouseRecord]:
        """The OM warehouses this channel syncs (sync_warehouse, minus excluded_warehouses)."""
        return [parse.warehouse_record(self.reader, row) for row in self._synced_warehouses()]

    def listings_download(self, *, since: datetime | None) -> Iterator[Listing]:
        """Listings (listing SKU → master SKU) with their product's UPC and name; master SKUs once each."""
        params = {"modifiedDateFrom": parse.om_time(since)} if since else {}
        use_listing_sku, seen = self.settings["use_listing_sku"], set[str]()
        page: list[dict[str, Any]] = []
        for row in self._pages("/v1/listings", params):
            page.append(row)
            if len(page) == self.settings["page_size"]:
                yield from self._listings(page, use_listing_sku, seen)
                page = []
        yield from self._listings(page, use_listing_sku, seen)

    def product_ids_for_sku(self, sku: str) -> list[str]:
        """OM productIds behind a channel SKU (a listing SKU or a master SKU, per use_listing_sku)."""
        if self.settings["use_listing_sku"]:
            row = self._listing_index().get(sku) or {}
            return [str(row["productId"])] if row.get("productId") else []
        return [str(self.reader.field(p, "productId", "a product")) for p in self._products([sku]).values()]

    def _listings(self, rows: list[dict[str, Any]], use_listing_sku: bool, seen: set[str]) -> Iterator[Listing]:
        products = self._products(
            sorted({str(r["masterSku"]) for r in rows if isinstance(r, dict) and r.get("masterSku")})
        )
        for row in rows:
            master = row.get("masterSku") if isinstance(row, dict) else None
            if not use_listing_sku and (not master or master in seen):
                continue  # master-SKU mode: unlinked listings have nothing to sync; each product once
            seen.add(str(master))
            yield parse.listing_record(self.reader, row, products.get(str(master), {}), use_listing_sku=use_listing_sku)

    def _products(self, skus: list[str]) -> dict[str, dict[str, Any]]:
        found = {}
        for start in range(0, len(skus), PRODUCT_LOOKUP_BATCH):
            chunk = skus[start : start + PRODUCT_LOOKUP_BATCH]
            quoted = ",".join(f'"{sku}"' for sku in chunk)
            params = {"sku": quoted, "page": 1, "limit": PRODUCT_LOOKUP_BATCH}
            for row in self._call("GET", "/v1.1/products", params=params) or []:
                found[str(self.reader.field(row, "masterSku", "a product"))] = row
        return found

    def _warehouses(self) -> list[dict[str, Any]]:
        if self._warehouse_rows is None:
            rows = self._call("GET", "/v1/warehouses")
            if not isinstance(rows, list):
                raise BadResponse("expected an array of warehouses", channel=self.label)
            self._warehouse_rows = rows
        return self._warehouse_rows

    def _listing_index(self) -> dict[str, dict[str, Any]]:
        """Every listing by its listing SKU, read once per connector (one run)."""
        if self._listing_rows is None:
            rows = list(self._pages("/v1/listings"))
            self._listing_rows = {str(self.reader.field(r, "listingSku", "a listing")): r for r in rows}
        return self._listing_rows
