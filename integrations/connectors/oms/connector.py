"""The generic fulfillment-system connector: the JSON contract documented in docs/oms-api.md."""

from collections.abc import Iterator, Mapping
from datetime import datetime
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
from integrations.connectors.oms import parse
from integrations.connectors.records import (
    CatalogItem,
    FulfillmentOrder,
    FulfillmentStatus,
    ShipmentRecord,
    StockLevelRecord,
    Supply,
    WarehouseRecord,
)
from integrations.http import AuthFailed, BadResponse, HttpClient, RateLimit, RetryPolicy

API = "/api/v1/"  # HttpClient joins it under the base URL, path prefix included


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
            json_body=parse.order_payload(order),
            headers={"Idempotency-Key": order.idempotency_key},
            safe_to_retry=True,
        )
        return parse.status(self.reader, self.http.json(response), "the submitted order")

    def order_status(self, number: str) -> FulfillmentStatus:
        """The order's status and whether it is locked (batched or shipping); NotFound if unknown."""
        response = self.http.get(f"{API}orders/{number}")
        return parse.status(self.reader, self.http.json(response), f"order {number}")

    def order_find(self, idempotency_key: str) -> FulfillmentStatus | None:
        """The order an earlier submission with this key created, or None if it never arrived."""
        row = next(self._rows("orders", params={"idempotency_key": idempotency_key}), None)
        return None if row is None else parse.status(self.reader, row, "the order found by idempotency key")

    def order_delete(self, number: str) -> None:
        """Delete (cancel) an open order; Conflict with the server's reason when it is locked or shipped.

        The contract answers 204; a success whose body cannot be read is not taken as done (BadResponse): the
        caller reads the order's status before it tries again."""
        self.http.json(self.http.delete(f"{API}orders/{number}"))

    # Downloads.

    def shipments_download(self, *, since: datetime | None) -> Iterator[ShipmentRecord]:
        """Shipments created or changed at or after `since`, oldest change first."""
        for row in self._rows("shipments", since=since):
            yield parse.shipment(self.reader, row)

    def inventory_download(self, *, since: datetime | None) -> Iterator[StockLevelRecord]:
        """Stock per item and warehouse changed at or after `since`. A page is parsed in one loop
        (parse.stock_levels): an inventory page is the longest list the hub reads."""
        for page in self._pages("inventory", since=since):
            yield from parse.stock_levels(self.reader, page)

    def supply_download(self, *, since: datetime | None) -> Iterator[Supply]:
        """Open purchase-order lines changed at or after `since`; a closed line comes with quantity 0."""
        for row in self._rows("supply", since=since):
            yield parse.supply(self.reader, row)

    def items_download(self, *, since: datetime | None) -> Iterator[CatalogItem]:
        """Items (with bundle components) created or changed at or after `since`."""
        for row in self._rows("items", since=since):
            yield parse.item(self.reader, row)

    def warehouses_download(self) -> list[WarehouseRecord]:
        """Every warehouse of the fulfillment system."""
        return [parse.warehouse(self.reader, row) for row in self._rows("warehouses")]

    # Paging.

    def _rows(
        self, resource: str, *, since: datetime | None = None, params: Mapping[str, Any] | None = None
    ) -> Iterator[Any]:
        """Every row of a list endpoint, following next_cursor (keyset paging, see docs/oms-api.md)."""
        for page in self._pages(resource, since=since, params=params):
            yield from page

    def _pages(
        self, resource: str, *, since: datetime | None = None, params: Mapping[str, Any] | None = None
    ) -> Iterator[list[Any]]:
        """Every page (its list of rows) of a list endpoint, following next_cursor."""
        path = API + resource
        query: dict[str, Any] = {"limit": self.settings["page_size"], **(params or {})}
        if since is not None:
            query["updated_since"] = parse.iso(since)
        while True:
            body = self.http.json(self.http.get(path, params=query))
            yield self.reader.field(body, "data", f"GET {path}", kind=list)
            cursor = self.reader.opt(body, "next_cursor", None)
            if not cursor:
                return
            if cursor == query.get("cursor"):
                raise BadResponse(f"GET {path} returned the same next_cursor twice", channel=self.label)
            query["cursor"] = cursor
