"""Extensiv Order Manager (formerly Skubana) as a sales channel: shared/reference/channel-apis.md §3.

Auth is a long-lived Bearer access token; an app install's one-time `code` can be exchanged for one
(`token_exchange`, Basic appKey:appSecret). Lists page with `page`/`limit` and end on an empty page. A 429
carries its wait in `x-skubana-quota-retryAfter` (milliseconds). The client throttles itself (about 5
requests a second) and spaces inventory-adjust batches (one per 10 s by default).

What the API leaves open, and what this connector does about it ([I] in the reference):
- No acknowledge call: the class is not an OrderAcknowledger, so orders.acknowledge does not run on it.
- No cancellation feed: `cancellations_download` reads the modified-date window and keeps CANCELLED orders.
- Bundles: `product.productType == "BUNDLE"` marks the line; OM does not expand components, so the hub
  splits bundles from its own BundleComponent rows (`bundle_parts` stays empty).
- External shipments: PUT /v1.1/shipment/external marks the whole order SHIPPED, and per-item partial
  confirmation is [I], so the class sets `confirms_whole_order`: the outbox confirms an order once, when
  every line is shipped or cancelled, with every parcel as one entry of a `shipments` array in one call
  (earlier parcels wait, pending). Only documented fields are sent (shipDate and shipMethod.shippingService
  with the `inferred_shipment_fields` setting). Nothing documents OM de-duplicating a repeated upload, so
  it is never retried once sent: after an unknown outcome, read `shipments_list` before sending again.
- Inventory: the adjust call *sets* on-hand (absolute) at a stock location; each product's location per
  warehouse is read from GET /v1/inventory (3PL: GLOBAL), `stock_locations` overrides it per warehouse; the
  stock row must exist (ERR097) and the product too (ERR053). Per-warehouse: each synced OM warehouse is one channel warehouse. OM keeps stock per warehouse
  and splits it among its own sales channels by its own rules, so "per_sales_channel" mode pushes one
  figure into `sync_warehouse` (required there) and leaves the split to OM; a combined "all warehouses"
  figure cannot be written, so without `sync_warehouse` every non-excluded warehouse is synced separately.

Layout: auth.py (Bearer token, install-code host), connector.py (the class), inventory.py (its quantities),
parse.py (payloads → records, OM's error and quota headers).
"""

from integrations.connectors.extensiv.connector import ExtensivConnector

__all__ = ["ExtensivConnector"]
