"""NuORDER JSON ↔ records. A NuORDER product is one style in one colour with sizes; each size has a UPC.

Identity choices (the hub relies on them):
- an order line is one size of one `line_items[]` entry: `OrderLine.external_id` is `"<product _id>:<size>"`
  (a second occurrence of the same product and size in one order gets `":2"`, `":3"`, … appended);
- the channel SKU of a size is `"<style_number>-<color>-<size>"`, empty parts left out (`1001-RED-S`,
  `GM501-OS`); NuORDER itself identifies a size by its UPC, which is on every line, so auto-mapping goes by UPC;
- `OrderLine.product_id` is the NuORDER product `_id` (what inventory pushes need).
"""

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from integrations.connectors.base import Connector
from integrations.connectors.records import (
    Address,
    ChannelQuantity,
    Customer,
    CustomerRef,
    Order,
    OrderLine,
    Product,
    QuantityUpdate,
    Shipment,
    ShipmentLine,
)
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


def channel_sku(style_number: str, color: str, size: str) -> str:
    return "-".join(part for part in (style_number, color, size) if part)


def order_from_json(c: Connector, data: Any) -> Order:
    order_id = str(c.field(data, "_id", "order"))
    where = f"order {order_id}"
    retailer = _mapping(c, data, "retailer", where)
    return Order(
        external_id=order_id,
        number=str(c.field(data, "order_number", where)),
        status=str(c.field(data, "status", where)),
        placed_at=c.timestamp(data.get("created_on"), "created_on", where),
        updated_at=order_updated_at(c, data),
        currency=str(c.opt(data, "currency_code", "USD")),
        total=c.decimal(c.opt(data, "total", 0), "total", where),
        ship_to=_address(c, data, "shipping_address", retailer, where),
        bill_to=_address(c, data, "billing_address", retailer, where),
        shipping_method=str(c.opt(data, "shipping_method", "")),
        customer=_customer(c, retailer, where) if retailer else None,
        lines=tuple(_order_lines(c, data, where)),
        attributes={name: data[name] for name in _ATTRIBUTES if data.get(name) not in (None, "", [])},
        cancelled=data.get("status") == "cancelled",
        raw=data,
    )


def order_updated_at(c: Connector, data: Mapping[str, Any]):
    where = f"order {data.get('_id')}"
    return c.timestamp(data.get("modified_on"), "modified_on", where) or c.timestamp(
        data.get("created_on"), "created_on", where
    )


def line_sizes(c: Connector, data: Any, where: str) -> Iterator[tuple[str, dict, dict]]:
    """(line id, product, size entry) for every size of every line item, ids as the module docstring says."""
    seen: Counter[str] = Counter()
    for i, item in enumerate(c.field(data, "line_items", where, kind=list)):
        at = f"{where} line_items[{i}]"
        product = c.field(item, "product", at, kind=dict)
        product_id = str(c.field(product, "_id", f"{at}.product"))
        c.field(product, "style_number", f"{at}.product")
        for j, size in enumerate(c.field(item, "sizes", at, kind=list)):
            name = str(c.field(size, "size", f"{at}.sizes[{j}]"))
            line_id = f"{product_id}:{name}"
            seen[line_id] += 1
            yield (line_id if seen[line_id] == 1 else f"{line_id}:{seen[line_id]}"), product, size


def _order_lines(c: Connector, data: Any, where: str) -> Iterator[OrderLine]:
    for line_id, product, size in line_sizes(c, data, where):
        at = f"{where} line {line_id}"
        quantity = c.integer(c.field(size, "quantity", at), "quantity", at)
        if quantity == 0:  # NuORDER grids carry every size of a style; unordered sizes are zero
            continue
        style, color = str(product["style_number"]), str(c.opt(product, "color", ""))
        yield OrderLine(
            external_id=line_id,
            sku=channel_sku(style, color, str(size["size"])),
            quantity=quantity,
            unit_price=c.decimal(c.opt(size, "price", 0), "price", at),
            title=str(c.opt(product, "name", "")) or f"{style} {color}".strip(),
            product_id=str(product["_id"]),
            upc=str(c.opt(size, "upc", "")),
        )


def _mapping(c: Connector, data: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    value = data.get(name) or {}
    if not isinstance(value, Mapping):
        raise BadResponse(f"field '{name}' in {where} is not an object", channel=c.label)
    return value


def _address(c: Connector, data: Mapping[str, Any], name: str, retailer: Mapping[str, Any], where: str) -> Address:
    address = _mapping(c, data, name, where)
    if not address:
        return Address()
    return Address(
        name=str(c.opt(retailer, "buyer_name", "")),
        company=str(c.opt(retailer, "retailer_name", "")),
        line1=str(c.opt(address, "line_1", "")),
        line2=str(c.opt(address, "line_2", "")),
        city=str(c.opt(address, "city", "")),
        state=str(c.opt(address, "state", "")),
        postal_code=str(c.opt(address, "zip", "")),
        country=str(c.opt(address, "country", "")),
        phone=str(c.opt(address, "phone", "")),
        email=str(c.opt(retailer, "buyer_email", "")),
    )


def _customer(c: Connector, retailer: Mapping[str, Any], where: str) -> CustomerRef:
    return CustomerRef(
        external_id=str(c.field(retailer, "_id", f"{where} retailer")),
        name=str(c.opt(retailer, "retailer_name", "")),
        email=str(c.opt(retailer, "buyer_email", "")),
        code=str(c.opt(retailer, "retailer_code", "")),
    )


# Shipments live inside the order (`shipments[]`); no endpoint creates one on its own.


def shipments_from_json(c: Connector, order: Mapping[str, Any]) -> list[Shipment]:
    order_id = str(c.field(order, "_id", "order"))
    shipments = c.opt(order, "shipments", [])
    if not isinstance(shipments, list):
        raise BadResponse(f"field 'shipments' in order {order_id} is not a list", channel=c.label)
    return [_shipment(c, order_id, i, data) for i, data in enumerate(shipments)]


def _shipment(c: Connector, order_id: str, index: int, data: Any) -> Shipment:
    where = f"order {order_id} shipments[{index}]"
    if not isinstance(data, Mapping):
        raise BadResponse(f"{where} is not an object", channel=c.label)
    tracking = [str(t) for t in c.opt(data, "tracking_numbers", [])]
    lines = [
        ShipmentLine(line_ref=f"{product['_id']}:{size['size']}", sku=_sku(c, product, size), quantity=q)
        for _, product, size in line_sizes(c, {"line_items": c.opt(data, "line_items", [])}, where)
        if (q := c.integer(c.field(size, "quantity", where), "quantity", where))
    ]
    return Shipment(
        external_id=str(c.opt(data, "external_id", "") or c.opt(data, "_id", "") or ",".join(tracking)),
        order_number=order_id,
        tracking_number=tracking[0] if tracking else "",
        carrier=str(c.opt(data, "carrier", "")),
        service=str(c.opt(data, "service", "")),
        invoice_number=str(c.opt(data, "invoice_number", "")),
        warehouse=str(c.opt(data, "warehouse", "")),
        shipped_at=c.timestamp(data.get("shipped_on"), "shipped_on", where),
        lines=tuple(lines),
    )


def _sku(c: Connector, product: Mapping[str, Any], size: Mapping[str, Any]) -> str:
    return channel_sku(str(product["style_number"]), str(c.opt(product, "color", "")), str(size["size"]))


def shipment_exists(existing: Iterable[Any], shipment: Shipment) -> bool:
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


def shipment_to_json(c: Connector, order: Mapping[str, Any], shipment: Shipment) -> dict[str, Any]:
    """A NuORDER shipment entry; line refs are the order's line ids (`"<product _id>:<size>"`)."""
    where = f"order {order.get('_id')}"
    sizes = {line_id: (product, size) for line_id, product, size in line_sizes(c, order, where)}
    grouped: dict[str, dict[str, Any]] = {}
    for line in shipment.lines:
        if line.line_ref not in sizes:
            raise ClientError(f"line '{line.line_ref}' is not on {where}", channel=c.label)
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


def product_sizes(c: Connector, product: Any) -> Iterator[tuple[str, str, str]]:
    """(channel sku, size, upc) of each size of a product."""
    product_id = str(c.field(product, "_id", "product"))
    where = f"product {product_id}"
    style, color = str(c.field(product, "style_number", where)), str(c.opt(product, "color", ""))
    for i, size in enumerate(c.field(product, "sizes", where, kind=list)):
        name = str(c.field(size, "size", f"{where} sizes[{i}]"))
        yield channel_sku(style, color, name), name, str(c.opt(size, "upc", ""))


def quantities_from_product(c: Connector, product: Any) -> Iterator[ChannelQuantity]:
    """The ATS (`immediate`, not prebook) NuORDER holds per warehouse and size [I: `inventory` on the product]."""
    product_id = str(c.field(product, "_id", "product"))
    where = f"product {product_id} inventory"
    by_size = {size: sku for sku, size, _ in product_sizes(c, product)}
    for i, entry in enumerate(c.opt(product, "inventory", [])):
        warehouse = str(c.field(entry, "warehouse", f"{where}[{i}]"))
        if entry.get("prebook"):
            continue
        for bucket in c.field(entry, "wip", f"{where}[{i}]", kind=list):
            if c.field(bucket, "name", f"{where}[{i}].wip") != IMMEDIATE:
                continue
            for size in c.field(bucket, "sizes", f"{where}[{i}].wip", kind=list):
                name = str(c.field(size, "size", where))
                quantity = c.integer(c.field(size, "quantity", where), "quantity", where)
                sku = by_size.get(name, channel_sku(str(product["style_number"]), str(product.get("color", "")), name))
                yield ChannelQuantity(sku=sku, warehouse_id=warehouse, quantity=quantity, product_id=product_id)


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


def company_to_json(customer: Customer, *, currency: str) -> dict[str, Any]:
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
