"""The generic fulfillment-system connector: the JSON contract documented in docs/oms-api.md."""

from collections.abc import Iterator, Mapping
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any, ClassVar, final

from integrations.connectors import register_connector
from integrations.connectors.base import Connector, CredentialSpec, SettingSpec
from integrations.connectors.capabilities import (
    FulfillmentTarget,
    ItemSource,
    ShipmentSource,
    StockSource,
    WarehouseSource,
)
from integrations.connectors.records import (
    CatalogItem,
    FulfillmentOrder,
    FulfillmentStatus,
    Shipment,
    ShipmentLine,
    StockLevel,
    Supply,
    Warehouse,
)
from integrations.http import AuthFailed, BadResponse, HttpClient, RateLimit, RetryPolicy

API = "/api/v1/"  # HttpClient joins it under the base URL, path prefix included
STATUSES = frozenset({"open", "batched", "partially_shipped", "shipped", "cancelled"})


@register_connector
@final
class OmsConnector(Connector, FulfillmentTarget, ShipmentSource, StockSource, ItemSource, WarehouseSource):
    kind = "oms"
    role = "fulfillment"
    settings_schema: ClassVar[tuple[SettingSpec, ...]] = (
        SettingSpec("page_size", int, 100, "Rows per page on list calls (1-500)."),
        SettingSpec("requests_per_second", int, 20, "Client-side rate limit; 0 turns it off."),
    )
    credentials_schema: ClassVar[tuple[CredentialSpec, ...]] = (
        CredentialSpec("api_key", "The API key the fulfillment system issued to the hub (sent as a Bearer token)."),
    )

    def make_client(self, *, retry: RetryPolicy, timeout: tuple[float, float]) -> HttpClient:
        api_key = str(self.credentials.get("api_key") or "")
        if not api_key:
            raise AuthFailed("the credentials have no api_key", channel=self.label)
        per_second = self.settings["requests_per_second"]
        return HttpClient(
            channel=self.label,
            base_url=self.base_url,
            retry=retry,
            timeout=timeout,
            rate_limit=RateLimit(per_second=per_second, burst=per_second) if per_second > 0 else None,
            headers={"Authorization": f"Bearer {api_key}"},
        )

    def test_connection(self) -> str:
        """List the warehouses: the cheapest call that needs a valid key."""
        codes = [w.code for w in self.warehouses_download()]
        return f"connected; {len(codes)} warehouse(s): {', '.join(codes) or 'none'}"

    # Orders.

    def order_submit(self, order: FulfillmentOrder) -> FulfillmentStatus:
        """Create the order; a repeat with the same idempotency key returns the first order, never a second."""
        # safe_to_retry=True: the server de-duplicates by Idempotency-Key (docs/oms-api.md), so re-sending a POST
        # whose answer was lost (timeout, dropped connection, 5xx) returns the order the first attempt created.
        response = self.http.post(
            API + "orders",
            json_body=order_payload(order),
            headers={"Idempotency-Key": order.idempotency_key},
            safe_to_retry=True,
        )
        return self._status(self.http.json(response), "the submitted order")

    def order_status(self, number: str) -> FulfillmentStatus:
        """The order's status and whether it is locked (batched or shipping); NotFound if unknown."""
        response = self.http.get(f"{API}orders/{number}")
        return self._status(self.http.json(response), f"order {number}")

    def order_find(self, idempotency_key: str) -> FulfillmentStatus | None:
        """The order an earlier submission with this key created, or None if it never arrived."""
        row = next(self._rows("orders", params={"idempotency_key": idempotency_key}), None)
        return None if row is None else self._status(row, "the order found by idempotency key")

    def order_delete(self, number: str) -> None:
        """Delete (cancel) an open order; Conflict with the server's reason when it is locked or shipped."""
        self.http.delete(f"{API}orders/{number}")

    # Downloads.

    def shipments_download(self, *, since: datetime | None) -> Iterator[Shipment]:
        """Shipments created or changed at or after `since`, oldest change first."""
        for row in self._rows("shipments", since=since):
            yield self._shipment(row)

    def inventory_download(self, *, since: datetime | None) -> Iterator[StockLevel]:
        """Stock per item and warehouse changed at or after `since`."""
        for row in self._rows("inventory", since=since):
            where = _where("inventory row", row, "sku")
            yield StockLevel(
                sku=self.field(row, "sku", where, kind=str),
                warehouse=self.field(row, "warehouse", where, kind=str),
                on_hand=self.integer(self.field(row, "on_hand", where), "on_hand", where),
                allocated=self.integer(self.field(row, "allocated", where), "allocated", where),
                available=self.integer(self.field(row, "available", where), "available", where),
                updated_at=self._updated_at(row, where),
            )

    def supply_download(self, *, since: datetime | None) -> Iterator[Supply]:
        """Open purchase-order lines changed at or after `since`; a closed line comes with quantity 0."""
        for row in self._rows("supply", since=since):
            where = _where("supply", row, "id")
            yield Supply(
                sku=self.field(row, "sku", where, kind=str),
                warehouse=self.field(row, "warehouse", where, kind=str),
                quantity=self.integer(self.field(row, "quantity", where), "quantity", where),
                expected_date=self._date(self.opt(row, "expected_date", None), "expected_date", where),
                purchase_order=str(self.opt(row, "purchase_order")),
                updated_at=self._updated_at(row, where),
            )

    def items_download(self, *, since: datetime | None) -> Iterator[CatalogItem]:
        """Items (with bundle components) created or changed at or after `since`."""
        for row in self._rows("items", since=since):
            yield self._item(row)

    def warehouses_download(self) -> list[Warehouse]:
        """Every warehouse of the fulfillment system."""
        warehouses = []
        for row in self._rows("warehouses"):
            where = _where("warehouse", row, "code")
            code = self.field(row, "code", where, kind=str)
            active = self.opt(row, "active", True)
            warehouses.append(
                Warehouse(external_id=code, name=str(self.opt(row, "name", code)), code=code, active=active)
            )
        return warehouses

    # Paging and parsing.

    def _rows(
        self, resource: str, *, since: datetime | None = None, params: Mapping[str, Any] | None = None
    ) -> Iterator[Any]:
        """Every row of a list endpoint, following next_cursor (keyset paging, see docs/oms-api.md)."""
        path = API + resource
        query: dict[str, Any] = {"limit": self.settings["page_size"], **(params or {})}
        if since is not None:
            query["updated_since"] = _iso(since)
        while True:
            body = self.http.json(self.http.get(path, params=query))
            yield from self.field(body, "data", f"GET {path}", kind=list)
            cursor = self.opt(body, "next_cursor", None)
            if not cursor:
                return
            if cursor == query.get("cursor"):
                raise BadResponse(f"GET {path} returned the same next_cursor twice", channel=self.label)
            query["cursor"] = cursor

    def _status(self, body: Any, where: str) -> FulfillmentStatus:
        number = self.field(body, "number", where, kind=str)
        status = self.field(body, "status", where, kind=str)
        if status not in STATUSES:
            raise BadResponse(f"field 'status' in {where} has an unknown value: {status!r}", channel=self.label)
        return FulfillmentStatus(number=number, status=status, locked=self.field(body, "locked", where, kind=bool))

    def _shipment(self, row: Any) -> Shipment:
        where = _where("shipment", row, "id")
        lines = []
        for n, line in enumerate(self.field(row, "lines", where, kind=list)):
            at = f"{where} line {n + 1}"
            lines.append(
                ShipmentLine(
                    line_ref=str(self.field(line, "line_ref", at)),
                    sku=self.field(line, "sku", at, kind=str),
                    quantity=self.integer(self.field(line, "quantity", at), "quantity", at),
                )
            )
        return Shipment(
            external_id=str(self.field(row, "id", where)),
            order_number=str(self.field(row, "order_number", where)),
            tracking_number=self.field(row, "tracking_number", where, kind=str),
            carrier=str(self.opt(row, "carrier")),
            service=str(self.opt(row, "service")),
            invoice_number=str(self.opt(row, "invoice_number")),
            warehouse=str(self.opt(row, "warehouse")),
            shipped_at=self.timestamp(self.field(row, "shipped_at", where), "shipped_at", where),
            lines=tuple(lines),
            updated_at=self._updated_at(row, where),
        )

    def _item(self, row: Any) -> CatalogItem:
        where = _where("item", row, "sku")
        sku = self.field(row, "sku", where, kind=str)
        components = []
        for n, part in enumerate(self.opt(row, "components", []) or []):
            at = f"{where} component {n + 1}"
            quantity = self.integer(self.field(part, "quantity", at), "quantity", at)
            components.append((self.field(part, "sku", at, kind=str), quantity))
        prices = {
            name: None if self.opt(row, name, None) is None else self.decimal(row[name], name, where)
            for name in ("wholesale_price", "retail_price")
        }
        return CatalogItem(
            sku=sku,
            item_number=self.field(row, "item_number", where, kind=str),
            color_code=str(self.opt(row, "color_code")),
            prepack_run=str(self.opt(row, "prepack_run")),
            size=str(self.opt(row, "size")),
            upc=str(self.opt(row, "upc")),
            description=str(self.opt(row, "description")),
            active=self.field(row, "active", where, kind=bool),
            components=tuple(components),
            updated_at=self._updated_at(row, where),
            **prices,
        )

    def _updated_at(self, row: Any, where: str) -> datetime | None:
        return self.timestamp(self.field(row, "updated_at", where), "updated_at", where)

    def _date(self, value: Any, name: str, where: str) -> date | None:
        if value in (None, ""):
            return None
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise BadResponse(f"field '{name}' in {where} is not a date: {value!r}", channel=self.label) from None


def order_payload(order: FulfillmentOrder) -> dict[str, Any]:
    """The POST /api/v1/orders body for a FulfillmentOrder (money as decimal strings)."""
    return {
        "reference": order.reference,
        "channel": order.channel,
        "currency": order.currency,
        "shipping_method": order.shipping_method,
        "customer": asdict(order.customer) if order.customer else None,
        "ship_to": asdict(order.ship_to),
        "bill_to": asdict(order.bill_to),
        "lines": [
            {"line_ref": line.line_ref, "sku": line.sku, "quantity": line.quantity, "unit_price": str(line.unit_price)}
            for line in order.lines
        ],
        "attributes": dict(order.attributes),
    }


def _iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _where(kind: str, row: Any, key: str) -> str:
    return f"{kind} {row.get(key)}" if isinstance(row, Mapping) and row.get(key) is not None else kind
