"""The ChannelAdvisor sales connector (REST API v1, OData v4; shared/reference/channel-apis.md §1).

Auth is the OAuth2 refresh-token grant; lists follow `@odata.nextLink`; an entity whose expanded
collection a list endpoint cut at 20 rows is fetched again by ID (client.py). Quantities: inventory.py.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Any, final

from integrations.connectors import register_connector
from integrations.connectors.base import SettingsError, SettingSpec
from integrations.connectors.capabilities import (
    CancellationSource,
    ListingSource,
    OrderAcknowledger,
    OrderSource,
    QuantitySink,
    QuantitySource,
    ShipmentSink,
    WarehouseSource,
)
from integrations.connectors.channeladvisor import parse
from integrations.connectors.channeladvisor.inventory import InventoryMixin
from integrations.connectors.channeladvisor.query import all_of, any_of, number, utc
from integrations.connectors.records import Listing, OrderRecord, ShipmentRecord, SkippedRecord, WarehouseRecord

ORDER_EXPAND = "Items($expand=BundleComponents),Fulfillments($expand=Items)"
PRODUCT_EXPAND = "Attributes,Images,Labels"
UPDATE_TYPES = ("Absolute", "Relative", "Available", "InStock", "UnShipped", "Unconfirmed")
SHIPPING_STATUSES = ("Unshipped", "Shipped", "PartiallyShipped", "PendingShipment", "Canceled", "ThirdPartyManaged")
EXTERNALLY_MANAGED = "ExternallyManaged"  # DistributionCenterTypeRollup of an order the marketplace fulfils
MARKETPLACE_FULFILLED = (
    "fulfilled by the marketplace (DistributionCenterTypeRollup ExternallyManaged, e.g. Amazon FBA); "
    "setting skip_marketplace_fulfilled"
)
PAYMENT_STATUSES = ("NotYetSubmitted", "Cleared", "Submitted", "Failed", "Deposited")


@register_connector
@final
class ChannelAdvisorConnector(
    InventoryMixin,
    OrderSource,
    OrderAcknowledger,
    CancellationSource,
    ShipmentSink,
    QuantitySink,
    QuantitySource,
    ListingSource,
    WarehouseSource,
):
    kind = "channeladvisor"
    role = "sales"
    sku_case_sensitive = True  # reference 1.9: SKUs are case-sensitive (only the search ignores case)
    settings_schema = (
        SettingSpec("profile_ids", list, [], "Only orders of these profile IDs (blank: every profile)."),
        SettingSpec("shipping_status", list, [], "Only orders in these shipping statuses, e.g. Unshipped."),
        SettingSpec("payment_status", list, [], "Only orders in these payment statuses, e.g. Cleared."),
        SettingSpec(
            "distribution_center_id",
            str,
            "",
            "Only orders with a fulfillment at this DC ID; also the DC of shipments that name none.",
        ),
        SettingSpec("page_size", int, 100, "Rows per page to ask for (CA serves at most 100)."),
        SettingSpec(
            "update_type",
            str,
            "Absolute",
            "UpdateType of absolute pushes (CA recommends UnShipped when CA handles the orders); relative pushes"
            " always go as Relative.",
            choices=UPDATE_TYPES,
        ),
        SettingSpec("unexported_only", bool, False, "Download only orders not yet marked exported (exported=false)."),
        SettingSpec(
            "skip_marketplace_fulfilled",
            bool,
            True,
            "Leave out orders the marketplace fulfils (DistributionCenterTypeRollup ExternallyManaged, e.g. Amazon"
            " FBA), as ChannelAdvisor recommends; each is counted skipped with the reason.",
        ),
        SettingSpec(
            "requests_per_second",
            float,
            30.0,
            "Client-side rate limit (CA allows 2,000 requests a minute per profile); 0 turns it off.",
        ),
    )
    corrects_shipments = True  # PATCH /v1/Fulfillments(ID)
    names_ship_from = True  # Ship's DistributionCenterID
    default_base_url = "https://api.channeladvisor.com/"

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        _check_settings(self.settings)

    def test_connection(self) -> str:
        """List the profiles the token reaches (the cheapest authenticated call)."""
        profiles = list(self._pages("/v1/Profiles", {}))
        names = ", ".join(
            str(self.reader.opt(p, "AccountName") or self.reader.field(p, "ID", "a profile")) for p in profiles
        )
        return f"ChannelAdvisor: {len(profiles)} profile(s): {names}"

    # Orders.

    def orders_download(
        self, *, since: datetime | None, until: datetime | None = None
    ) -> Iterator[OrderRecord | SkippedRecord]:
        """Orders updated in [since, until], narrowed by the profile, status, DC and export settings; an order
        the marketplace fulfils comes as a SkippedRecord while `skip_marketplace_fulfilled` is on (the default)."""
        statuses = all_of(
            any_of("ShippingStatus", self.settings["shipping_status"]),
            any_of("PaymentStatus", self.settings["payment_status"]),
        )
        for order in self._orders(since, until, statuses, exported_filter=True):
            rollup = order.attributes.get("distribution_center_type")
            if self.settings["skip_marketplace_fulfilled"] and rollup == EXTERNALLY_MANAGED:
                yield SkippedRecord(order.external_id, MARKETPLACE_FULFILLED, order.updated_at)
            else:
                yield order

    def cancellations_download(self, *, since: datetime | None) -> Iterator[OrderRecord]:
        """Orders cancelled (ShippingStatus Canceled) and updated since `since`."""
        yield from self._orders(since, None, "ShippingStatus eq 'Canceled'", exported_filter=False)

    def order_get(self, external_id: str) -> OrderRecord:
        """One order with every item and fulfillment."""
        return parse.order(self.reader, self._order_payload(external_id))

    def order_acknowledge(self, *, external_id: str, fulfillment_number: str) -> None:
        """Mark the order exported for this application (CA keeps no field for the fulfillment number)."""
        # Marking an order exported twice changes nothing, so a retry after a lost answer is safe.
        response = self.http.post(f"/v1/Orders({self._id(external_id)})/Export", json_body={}, safe_to_retry=True)
        self._accepted(response)  # an unreadable 200 is no proof it was marked: the next run marks it again

    def order_unacknowledge(self, external_id: str) -> None:
        """Clear the exported flag, so `unexported_only` downloads see the order again."""
        self.http.delete(f"/v1/Orders({self._id(external_id)})/Export")

    def shipments_list(self, external_id: str) -> list[ShipmentRecord]:
        """The order's fulfillments with tracking, lines by OrderItemID (what CA already has)."""
        return parse.shipments(self.reader, self._order_payload(external_id))

    def shipment_upload(self, *, external_id: str, shipment: ShipmentRecord) -> None:
        """Ship the lines of `shipment` (OrderItemID + quantity) on the order; no lines ships all open items."""
        value: dict[str, Any] = {
            "TrackingNumber": shipment.tracking_number,
            "ShippingCarrier": shipment.carrier,
            "ShippingClass": shipment.service,
            "DeliveryStatus": "Complete",  # "shipped", not "delivered"
        }
        if shipment.shipped_at:
            value["ShippedDateUtc"] = utc(shipment.shipped_at)
        if shipment.external_id:
            value["SellerFulfillmentID"] = shipment.external_id
        # The DC it left from (the flow pairs the fulfillment warehouse with one DC), else the channel's DC setting.
        dc = shipment.channel_warehouse or self.settings["distribution_center_id"]
        if dc.isdigit():
            value["DistributionCenterID"] = int(dc)
        if shipment.lines:
            value["Items"] = [
                {"OrderItemID": self._id(line.line_ref, "an OrderItemID"), "Quantity": line.quantity}
                for line in shipment.lines
                if line.quantity > 0
            ]
        # Not retried: CA does not de-duplicate Ship calls; after a lost answer, read shipments_list first.
        response = self.http.post(f"/v1/Orders({self._id(external_id)})/Ship", json_body={"Value": value})
        self._accepted(response)  # a 200 whose body is unreadable: unknown, settled by read-back

    def shipment_correct(self, *, external_id: str, shipment: ShipmentRecord, held: ShipmentRecord) -> None:
        """Set tracking, carrier and class on the fulfillment CA holds (PATCH /v1/Fulfillments(ID)); NoChange
        keeps its delivery status (left out, CA would mark it shipped again)."""
        fulfillment_id = self._id(held.channel_ref, "a fulfillment ID")
        body = {
            "TrackingNumber": shipment.tracking_number,
            "ShippingCarrier": shipment.carrier,
            "ShippingClass": shipment.service,
            "DeliveryStatus": "NoChange",
        }
        # Setting the same fields twice leaves the same fulfillment: safe to retry.
        self.http.patch(f"/v1/Fulfillments({fulfillment_id})", json_body=body, safe_to_retry=True)

    # Inventory.

    def warehouses_download(self) -> list[WarehouseRecord]:
        """Distribution centers, leaving out deleted ones."""
        rows = self._pages("/v1/DistributionCenters", {})
        return [parse.warehouse(self.reader, row) for row in rows if not self.reader.opt(row, "IsDeleted", False)]

    # Catalog.

    def listings_download(self, *, since: datetime | None) -> Iterator[Listing]:
        """Products updated since `since` with their attributes, images, labels and other identifiers."""
        params = {"$expand": PRODUCT_EXPAND, "$orderby": "ID"}
        if since is not None:
            params["$filter"] = f"UpdateDateUtc ge {utc(since)}"
        for product in self._complete(self._pages("/v1/Products", params), "/v1/Products", params):
            yield parse.listing(self.reader, product)

    # Internals.

    def _orders(self, since: datetime | None, until: datetime | None, status: str, *, exported_filter: bool):
        params = {"$filter": self._orders_filter(since, until, status), "$expand": ORDER_EXPAND}
        # By ID: an order updated while we page keeps its place, so $skip paging neither skips nor repeats it.
        params["$orderby"] = "ID"
        if exported_filter and self.settings["unexported_only"]:
            params["exported"] = "false"
        if not params["$filter"]:
            del params["$filter"]
        for data in self._complete(self._pages("/v1/Orders", params), "/v1/Orders", params):
            yield parse.order(self.reader, data)

    def _order_payload(self, external_id: str) -> dict:
        response = self.http.get(f"/v1/Orders({self._id(external_id)})", params={"$expand": ORDER_EXPAND})
        return self.http.json(response)

    def _orders_filter(self, since: datetime | None, until: datetime | None, status: str) -> str:
        dc = self.settings["distribution_center_id"]
        return all_of(
            f"UpdatedDateUtc ge {utc(since)}" if since else "",
            f"UpdatedDateUtc le {utc(until)}" if until else "",
            any_of("ProfileID", self.settings["profile_ids"], number),
            status,
            f"Fulfillments/any(f: f/DistributionCenterID eq {number(dc)})" if dc else "",
        )


def _check_settings(settings: dict[str, Any]) -> None:
    """Refuse settings CA would silently match nothing with (a typo in a status, a non-numeric ID)."""
    for name in ("profile_ids", "shipping_status", "payment_status"):
        settings[name] = settings[name] or []
    settings["page_size"] = settings["page_size"] or 100
    settings["distribution_center_id"] = str(settings["distribution_center_id"] or "")
    bad = [v for v in settings["profile_ids"] if not str(v).isdigit()]
    if bad:
        raise SettingsError(f"setting 'profile_ids' takes numeric IDs, not {', '.join(bad)}")
    if settings["distribution_center_id"] and not settings["distribution_center_id"].isdigit():
        raise SettingsError("setting 'distribution_center_id' takes a numeric DC ID")
    for name, allowed in (("shipping_status", SHIPPING_STATUSES), ("payment_status", PAYMENT_STATUSES)):
        bad = [v for v in settings[name] if v not in allowed]
        if bad:
            raise SettingsError(f"setting '{name}' must be among {', '.join(allowed)}; not {', '.join(bad)}")
    if not 1 <= settings["page_size"] <= 100:
        raise SettingsError("setting 'page_size' must be between 1 and 100")
