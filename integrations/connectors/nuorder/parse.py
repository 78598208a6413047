"""NuORDER JSON ↔ records. A NuORDER product is one style in one colour with sizes; each size has a UPC.

Identity choices (the hub relies on them):
- an order line is one size of one `line_items[]` entry: `OrderLineRecord.external_id` is `"<product _id>:<size>"`
  (a second occurrence of the same product and size in one order gets `":2"`, `":3"`, … appended);
- the channel SKU (the listing key) of a size is its UPC when it has one (NuORDER identifies a size by it);
  a size without a UPC, which real orders often have, is `"<style_number>|<color>|<size>"`, always three parts
  with `\\` and `|` inside a part escaped by a backslash (`4156301-4|TURQUOISE, RED|30x60`, `GM501||OS`). Style
  numbers carry dashes, colours commas and sizes spaces, so a dash-joined key was ambiguous; this one is not, and
  a UPC (digits) never contains `|`. The three parts also go with the listing as `variant` (VARIANT_KEY), so
  auto-mapping compares them with an item's item number, colour code and size one by one; a line also names the
  keys its listing may still have (`former_skus`: the parts key once a UPC is added, the old dash-joined key), so
  that listing is moved to the new key with its mapping instead of a second listing being made;
- `OrderLineRecord.product_id` is the NuORDER product `_id` (what inventory pushes need).
"""

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from integrations.connectors.reader import PayloadReader
from integrations.connectors.records import (
    VARIANT_KEY,
    Address,
    ChannelQuantity,
    CustomerRecord,
    CustomerRef,
    OrderLineRecord,
    OrderRecord,
    Product,
    QuantityUpdate,
    ShipmentLineRecord,
    ShipmentRecord,
)
from integrations.countries import country_code
from integrations.http import BadResponse, ClientError

IMMEDIATE = "immediate"  # the WIP bucket NuORDER treats as available to sell now
_ATTRIBUTES = (
    "customer_po_number",
    "start_ship",
    "end_ship",
    "rep_name",
    "rep_code",
    "notes",
    "order_tags",
    "external_id",
    "submitted_by",
    "discount",
)


# Per line item in real orders (2014 and 2023): the warehouse it ships from, prebook or at-once, its own ship
# window, a discount (percent) and the price before it; a size may carry its own price before discount.
LINE_ATTRIBUTES = ("warehouse", "prebook", "ship_start", "ship_end", "discount", "original_price")
SIZE_ATTRIBUTES = ("discount", "original_price")


def channel_sku(style_number: str, color: str, size: str, upc: str = "") -> str:
    """The listing key of one size of a product: its UPC, else the escaped style|colour|size (module docstring)."""
    return upc.strip() or size_key(style_number, color, size)


def size_key(style_number: str, color: str, size: str) -> str:
    return "|".join(part.replace("\\", "\\\\").replace("|", "\\|") for part in (style_number, color, size))


def former_skus(style_number: str, color: str, size: str, upc: str = "") -> tuple[str, ...]:
    """Keys a listing of this size may still have: its parts key when it now has a UPC (a UPC added later), and
    the dash-joined key listings had before the key was made unambiguous (one no stored order could convert)."""
    keys = [size_key(style_number, color, size)] if upc.strip() else []
    keys.append("-".join(part for part in (style_number, color, size) if part))
    return tuple(k for k in keys if k != channel_sku(style_number, color, size, upc))


def variant(style_number: str, color: str, size: str) -> dict[str, str]:
    """The size's three parts, as a listing keeps them (`ItemMapping.data["variant"]`)."""
    return {"style": style_number, "color": color, "size": size}


def order_from_json(r: PayloadReader, data: Any) -> OrderRecord:
    order_id = str(r.field(data, "_id", "order"))
    where = f"order {order_id}"
    retailer = _mapping(r, data, "retailer", where)
    return OrderRecord(
        external_id=order_id,
        number=str(r.field(data, "order_number", where)),
        status=str(r.field(data, "status", where)),
        placed_at=r.timestamp(data.get("created_on"), "created_on", where),
        updated_at=order_updated_at(r, data),
        currency=str(r.opt(data, "currency_code", "USD")),
        total=r.decimal(r.opt(data, "total", 0), "total", where),
        ship_to=_address(r, data, "shipping_address", retailer, where),
        bill_to=_address(r, data, "billing_address", retailer, where),
        shipping_method=str(r.opt(data, "shipping_method", "")),
        customer=_customer(r, retailer, where) if retailer else None,
        lines=tuple(_order_lines(r, data, where)),
        attributes=_attributes(data),
        cancelled=data.get("status") == "cancelled",
        raw=data,
    )


def _attributes(data: Mapping[str, Any]) -> dict[str, Any]:
    attributes = {name: data[name] for name in _ATTRIBUTES if data.get(name) not in (None, "", [])}
    for name in ("shipping_address", "billing_address"):
        # The country as NuORDER wrote it, beside the ISO code the address carries.
        address = data.get(name)
        if isinstance(address, Mapping) and address.get("country"):
            attributes[f"{name}_country"] = str(address["country"])
    return attributes


def order_updated_at(r: PayloadReader, data: Mapping[str, Any]):
    where = f"order {data.get('_id')}"
    return r.timestamp(data.get("modified_on"), "modified_on", where) or r.timestamp(
        data.get("created_on"), "created_on", where
    )


def line_sizes(r: PayloadReader, data: Any, where: str) -> Iterator[tuple[str, dict, dict]]:
    """(line id, product, size entry) for every size of every line item, ids as the module docstring says."""
    for line_id, product, size, _ in _item_sizes(r, data, where):
        yield line_id, product, size


def _item_sizes(r: PayloadReader, data: Any, where: str) -> Iterator[tuple[str, dict, dict, dict]]:
    """(line id, product, size entry, line item) for every size of every line item."""
    seen: Counter[str] = Counter()
    for i, item in enumerate(r.field(data, "line_items", where, kind=list)):
        at = f"{where} line_items[{i}]"
        product = r.field(item, "product", at, kind=dict)
        product_id = str(r.field(product, "_id", f"{at}.product"))
        r.field(product, "style_number", f"{at}.product")
        for j, size in enumerate(r.field(item, "sizes", at, kind=list)):
            name = str(r.field(size, "size", f"{at}.sizes[{j}]"))
            line_id = f"{product_id}:{name}"
            seen[line_id] += 1
            yield (line_id if seen[line_id] == 1 else f"{line_id}:{seen[line_id]}"), product, size, item


def _order_lines(r: PayloadReader, data: Any, where: str) -> Iterator[OrderLineRecord]:
    for line_id, product, size, item in _item_sizes(r, data, where):
        at = f"{where} line {line_id}"
        quantity = r.integer(r.field(size, "quantity", at), "quantity", at)
        if quantity == 0:  # NuORDER grids carry every size of a style; unordered sizes are zero
            continue
        style, color = str(product["style_number"]), str(r.opt(product, "color", ""))
        upc = str(r.opt(size, "upc", "")).strip()
        yield OrderLineRecord(
            external_id=line_id,
            sku=channel_sku(style, color, str(size["size"]), upc),
            quantity=quantity,
            unit_price=r.decimal(r.opt(size, "price", 0), "price", at),
            title=str(r.opt(product, "name", "")) or f"{style} {color}".strip(),
            product_id=str(product["_id"]),
            upc=upc,
            listing_data={VARIANT_KEY: variant(style, color, str(size["size"]))},
            former_skus=former_skus(style, color, str(size["size"]), upc),
            attributes=line_attributes(item, size),
        )


def line_attributes(item: Mapping[str, Any], size: Mapping[str, Any]) -> dict[str, Any]:
    """The line item's own facts kept on each of its sizes' lines (LINE_ATTRIBUTES); a size's own `discount` or
    `original_price` wins over the line item's. Values as NuORDER sent them (dates stay ISO text)."""
    attributes = {name: item[name] for name in LINE_ATTRIBUTES if item.get(name) not in (None, "", [])}
    attributes.update({name: size[name] for name in SIZE_ATTRIBUTES if size.get(name) not in (None, "")})
    return attributes


def _mapping(r: PayloadReader, data: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    value = data.get(name) or {}
    if not isinstance(value, Mapping):
        raise BadResponse(f"field '{name}' in {where} is not an object", channel=r.label)
    return value


def _address(r: PayloadReader, data: Mapping[str, Any], name: str, retailer: Mapping[str, Any], where: str) -> Address:
    address = _mapping(r, data, name, where)
    if not address:
        return Address()
    return Address(
        name=str(r.opt(retailer, "buyer_name", "")),
        company=str(r.opt(retailer, "retailer_name", "")),
        line1=str(r.opt(address, "line_1", "")),
        line2=str(r.opt(address, "line_2", "")),
        city=str(r.opt(address, "city", "")),
        state=str(r.opt(address, "state", "")),
        postal_code=str(r.opt(address, "zip", "")),
        country=country_code(str(r.opt(address, "country", ""))),  # NuORDER sends names: `USA`, `Poland`
        phone=str(r.opt(address, "phone", "")),
        email=str(r.opt(retailer, "buyer_email", "")),
    )


def _customer(r: PayloadReader, retailer: Mapping[str, Any], where: str) -> CustomerRef:
    return CustomerRef(
        external_id=str(r.field(retailer, "_id", f"{where} retailer")),
        name=str(r.opt(retailer, "retailer_name", "")),
        email=str(r.opt(retailer, "buyer_email", "")),
        code=str(r.opt(retailer, "retailer_code", "")),
    )


# Shipments live inside the order (`shipments[]`); no endpoint creates one on its own.


def shipments_from_json(r: PayloadReader, order: Mapping[str, Any]) -> list[ShipmentRecord]:
    order_id = str(r.field(order, "_id", "order"))
    shipments = r.opt(order, "shipments", [])
    if not isinstance(shipments, list):
        raise BadResponse(f"field 'shipments' in order {order_id} is not a list", channel=r.label)
    return [_shipment(r, order_id, i, data) for i, data in enumerate(shipments)]


def _shipment(r: PayloadReader, order_id: str, index: int, data: Any) -> ShipmentRecord:
    where = f"order {order_id} shipments[{index}]"
    if not isinstance(data, Mapping):
        raise BadResponse(f"{where} is not an object", channel=r.label)
    tracking = [str(t) for t in r.opt(data, "tracking_numbers", [])]
    lines = [
        ShipmentLineRecord(line_ref=f"{product['_id']}:{size['size']}", sku=_sku(r, product, size), quantity=q)
        for _, product, size in line_sizes(r, {"line_items": r.opt(data, "line_items", [])}, where)
        if (q := r.integer(r.field(size, "quantity", where), "quantity", where))
    ]
    return ShipmentRecord(
        external_id=str(r.opt(data, "external_id", "") or r.opt(data, "_id", "") or ",".join(tracking)),
        order_number=order_id,
        tracking_number=tracking[0] if tracking else "",
        carrier=str(r.opt(data, "carrier", "")),
        service=str(r.opt(data, "service", "")),
        invoice_number=str(r.opt(data, "invoice_number", "")),
        warehouse=str(r.opt(data, "warehouse", "")),
        shipped_at=r.timestamp(data.get("shipped_on"), "shipped_on", where),
        lines=tuple(lines),
    )


def _sku(r: PayloadReader, product: Mapping[str, Any], size: Mapping[str, Any]) -> str:
    color, upc = str(r.opt(product, "color", "")), str(r.opt(size, "upc", ""))
    return channel_sku(str(product["style_number"]), color, str(size["size"]), upc)


def shipment_exists(existing: Iterable[Any], shipment: ShipmentRecord) -> bool:
    """Already on the order: the same external id, or (for shipments entered by hand) the same tracking number."""
    for data in existing:
        if not isinstance(data, Mapping):
            continue
        if data.get("external_id"):
            if data["external_id"] == shipment.external_id:
                return True
        elif shipment.tracking_number and shipment.tracking_number in (data.get("tracking_numbers") or []):
            return True
    return False


def shipment_to_json(r: PayloadReader, order: Mapping[str, Any], shipment: ShipmentRecord) -> dict[str, Any]:
    """A NuORDER shipment entry; line refs are the order's line ids (`"<product _id>:<size>"`)."""
    where = f"order {order.get('_id')}"
    sizes = {line_id: (product, size) for line_id, product, size in line_sizes(r, order, where)}
    grouped: dict[str, dict[str, Any]] = {}
    for line in shipment.lines:
        if line.line_ref not in sizes:
            raise ClientError(f"line '{line.line_ref}' is not on {where}", channel=r.label)
        product, size = sizes[line.line_ref]
        entry = grouped.setdefault(
            str(product["_id"]),
            {"product": {k: product[k] for k in ("_id", "style_number", "color") if k in product}, "sizes": []},
        )
        entry["sizes"].append({"size": size["size"], "upc": size.get("upc", ""), "quantity": line.quantity})
    body: dict[str, Any] = {
        "external_id": shipment.external_id,
        "tracking_numbers": [shipment.tracking_number] if shipment.tracking_number else [],
        "line_items": list(grouped.values()),
    }
    for name, value in (
        ("carrier", shipment.carrier),
        ("service", shipment.service),
        ("invoice_number", shipment.invoice_number),
        ("warehouse", shipment.warehouse),
        ("shipped_on", shipment.shipped_at.isoformat() if shipment.shipped_at else ""),
    ):
        if value:
            body[name] = value
    return body


# Inventory: one body per product, every warehouse and size of it; `immediate` is ATS, each
# purchase-order date a WIP bucket named by the ISO date [I]. Absolute: the sizes sent replace what
# NuORDER held for them in that warehouse.


def inventory_to_json(updates: Sequence[QuantityUpdate]) -> dict[str, Any]:
    warehouses: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for update in updates:
        buckets = warehouses.setdefault(update.warehouse_id, {IMMEDIATE: {}})
        key = update.upc or update.size
        buckets[IMMEDIATE][key] = _size_entry(update, update.quantity)
        for when, quantity in sorted(update.incoming):
            bucket = buckets.setdefault(when.isoformat(), {})
            previous = bucket.get(key, {}).get("quantity", 0)
            bucket[key] = _size_entry(update, previous + quantity)
    return {
        "inventory": [
            {
                "warehouse": warehouse,
                "prebook": False,
                "wip": [{"name": name, "sizes": list(sizes.values())} for name, sizes in buckets.items()],
            }
            for warehouse, buckets in warehouses.items()
        ]
    }


def _size_entry(update: QuantityUpdate, quantity: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"size": update.size, "quantity": quantity}
    if update.upc:
        entry["upc"] = update.upc
    return entry


def product_sizes(r: PayloadReader, product: Any) -> Iterator[tuple[str, str, str]]:
    """(channel sku, size, upc) of each size of a product."""
    product_id = str(r.field(product, "_id", "product"))
    where = f"product {product_id}"
    style, color = str(r.field(product, "style_number", where)), str(r.opt(product, "color", ""))
    for i, size in enumerate(r.field(product, "sizes", where, kind=list)):
        name, upc = str(r.field(size, "size", f"{where} sizes[{i}]")), str(r.opt(size, "upc", "")).strip()
        yield channel_sku(style, color, name, upc), name, upc


def quantities_from_product(r: PayloadReader, product: Any) -> Iterator[ChannelQuantity]:
    """The ATS (`immediate`, not prebook) NuORDER holds per warehouse and size, read from the product's
    `warehouses[]` [I: each entry names its warehouse (`warehouse` or `name`) and carries its sizes, in WIP
    buckets like an inventory post, or directly as `sizes[]` of ATS]. Sizes are matched by UPC first, then name.

    A product without `warehouses` is a BadResponse, not zero rows: reconciliation must never read "nothing"
    from a body it does not understand.
    """
    product_id = str(r.field(product, "_id", "product"))
    where = f"product {product_id} warehouses"
    sizes = list(product_sizes(r, product))
    by_upc = {upc: sku for sku, _, upc in sizes if upc}
    by_size = {size: sku for sku, size, _ in sizes}
    style, color = str(product["style_number"]), str(product.get("color", ""))
    for i, entry in enumerate(r.field(product, "warehouses", "product", kind=list)):
        at = f"{where}[{i}]"
        if not isinstance(entry, Mapping):
            raise BadResponse(f"{at} is not an object", channel=r.label)
        if entry.get("prebook"):
            continue
        warehouse = str(r.opt(entry, "warehouse", "") or r.field(entry, "name", at))
        if "wip" in entry:
            buckets = r.field(entry, "wip", at, kind=list)
            rows = [s for b in buckets if r.field(b, "name", f"{at}.wip") == IMMEDIATE for s in _sizes(r, b, at)]
        else:
            rows = list(_sizes(r, entry, at))
        for size in rows:
            name, upc = str(r.field(size, "size", at)), str(r.opt(size, "upc", ""))
            quantity = r.integer(r.field(size, "quantity", at), "quantity", at)
            sku = by_upc.get(upc) or by_size.get(name) or channel_sku(style, color, name, upc)
            yield ChannelQuantity(sku=sku, warehouse_id=warehouse, quantity=quantity, product_id=product_id)


def _sizes(r: PayloadReader, data: Any, where: str) -> list[Any]:
    return list(r.field(data, "sizes", where, kind=list))


def product_to_json(product: Product, *, season: str, currency: str) -> dict[str, Any]:
    prices = {k: float(v) for k, v in (("wholesale", product.wholesale), ("retail", product.retail)) if v is not None}
    return {
        "style_number": product.style_number,
        "color": product.color,
        "season": product.season or season,
        "name": product.name,
        "external_id": product.external_id,
        "active": product.active,
        "archived": not product.active,
        "pricing": {product.currency or currency: prices} if prices else {},
        "sizes": [{"size": s.size, "upc": s.upc} if s.upc else {"size": s.size} for s in product.sizes],
    }


def company_to_json(customer: CustomerRecord, *, currency: str) -> dict[str, Any]:
    """A company upsert body; addresses carry `type` billing/shipping [I: the address shape]."""
    addresses = [_address_json(a, "billing") for a in customer.billing_addresses]
    addresses += [_address_json(a, "shipping") for a in customer.shipping_addresses]
    return {
        "name": customer.name,
        "code": customer.code or customer.external_id,
        "external_id": customer.external_id,
        "currency_code": customer.currency or currency,
        "discount": float(customer.discount),
        "addresses": addresses,
    }


def _address_json(address: Address, kind: str) -> dict[str, Any]:
    return {
        "type": kind,
        "display_name": address.name or address.company,
        "line_1": address.line1,
        "line_2": address.line2,
        "city": address.city,
        "state": address.state,
        "zip": address.postal_code,
        "country": address.country,
        "phone": address.phone,
    }
