"""The sandbox ChannelAdvisor REST API v1 (OData v4), seeded from the World.

Paths, auth, paging and payloads follow the real API (shared/reference/channel-apis.md §1):
    POST /oauth2/token                   Basic base64(application_id:shared_secret), form
                                         grant_type=refresh_token&refresh_token=…; 3600 s tokens; 400 on bad creds
    GET  /v1/Profiles, /v1/DistributionCenters (one IsDeleted), /v1/Orders, /v1/Orders(ID),
         /v1/Orders(ID)/Items|Fulfillments, /v1/Products, /v1/Products(ID), /v1/Products/$count
    POST|DELETE /v1/Orders(ID)/Export    per-application exported flag (GET /v1/Orders?exported=false|true)
    POST /v1/Orders(ID)/Ship             {"Value": {…, "Items": [{OrderItemID, Quantity}]}} → 204; carrier/class
                                         checked against CARRIERS (400 {"error": {"message": …}}); a new fulfillment;
                                         ShippingStatus PartiallyShipped/Shipped
    POST /v1/Products(ID)/UpdateQuantity {"Value": {"UpdateType", "Updates": [{DistributionCenterID, Quantity}]}}
                                         → 204; Relative adds, the other types set (less pending quantities)
The token goes in `Authorization: Bearer …` or `?access_token=`; unknown or expired → 401. Lists are OData
envelopes (`@odata.context`, `value`, absolute `@odata.nextLink` with `$skip`; `$count=true`), `api.page_size`
per page (100; `Prefer: odata.maxpagesize=N` lowers it); `$filter` (eq ne gt ge lt le, and/or/not, any/all
lambdas; string matches ignore case), `$expand` (nested), `$select`, `$orderby`, `$top`. On list endpoints an
expanded collection holds at most 20 rows plus `<Name>@odata.nextLink`; `GET /v1/Orders(ID)` returns all.
Rate limits: `api.rate_limit_per_minute` (2000) requests per rolling minute and `api.max_concurrent` (5) → 429.

State tests can read:
    api.orders[ID] (whole orders: Items with BundleComponents, Fulfillments with Items), api.products[ID],
    api.quantities[(product ID, DC ID)] -> available quantity, api.distribution_centers[ID],
    api.exported (order IDs the sandbox app marked), api.exports[application id],
    api.shipments (accepted Ship bodies + OrderID), api.quantity_updates (accepted UpdateQuantity bodies + ProductID),
    api.tokens, api.token_grants (tokens issued), api.calls / api.calls_to(method, regex), api.clock.
Helpers that move the world:
    api.advance(seconds=60) -> datetime        later changes are stamped after the returned instant
    api.add_order([(listing_sku, qty), …], profile_id=PROFILE_ID, site_order_id=None, dc="MAIN", **fields) -> dict
    api.modify_order(order_id, **fields) -> dict    e.g. PaymentStatus="Submitted"; stamps UpdatedDateUtc
    api.cancel_order(order_id) -> dict               ShippingStatus Canceled
    api.order_by_number(site_order_id) -> dict, api.shipped_quantity(order_id, order_item_id) -> int
    api.add_product(sku, **fields) -> dict           e.g. a SKU differing only in case, or a duplicate SKU
    api.product_id(sku), api.dc_id(code), api.quantity(sku, dc_code), api.set_quantity(sku, dc_code, qty)
    api.expire_tokens()                              every issued access token answers 401 from now on
Knobs: api.page_size, api.token_lifetime (seconds), api.rate_limit_per_minute, api.max_concurrent,
    api.latency (seconds each call takes, so concurrent calls overlap).

Seed: one order per World order (SiteOrderID = the World number; every 4th on the outlet profile; every 3rd
shipping from EAST) plus one channel-only order with the KIT1 bundle; a product per World listing
(ID = listing product_id) with Attributes/Images/Labels, and DCQuantities at MAIN/EAST/FBA from World stock.
"""

from integrations.sandbox.channeladvisor.api import ChannelAdvisorSandbox
from integrations.sandbox.channeladvisor.state import CARRIERS, OUTLET_PROFILE_ID, PROFILE_ID

__all__ = ["CARRIERS", "OUTLET_PROFILE_ID", "PROFILE_ID", "ChannelAdvisorSandbox"]
