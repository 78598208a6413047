"""OMS contract rows → records, and the order record → its POST body (docs/oms-api.md). `r` is the connector's
PayloadReader: a missing or malformed field is a BadResponse naming it and the row it belongs to."""

from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from integrations.connectors.reader import PayloadReader, RowShape, record_maker, utc_timestamp
from integrations.connectors.records import (
    CatalogItem,
    FulfillmentOrder,
    FulfillmentStatus,
    ShipmentLineRecord,
    ShipmentRecord,
    StockLevelRecord,
    Supply,
    WarehouseRecord,
)
from integrations.http import BadResponse

STATUSES = frozenset({"open", "batched", "partially_shipped", "shipped", "cancelled"})


def status(r: PayloadReader, body: Any, where: str) -> FulfillmentStatus:
    number = r.field(body, "number", where, kind=str)
    value = r.field(body, "status", where, kind=str)
    if value not in STATUSES:
        raise BadResponse(f"field 'status' in {where} has an unknown value: {value!r}", channel=r.label)
    return FulfillmentStatus(number=number, status=value, locked=r.field(body, "locked", where, kind=bool))


def shipment(r: PayloadReader, row: Any) -> ShipmentRecord:
    where = _where("shipment", row, "id")
    lines = []
    for n, line in enumerate(r.field(row, "lines", where, kind=list)):
        at = f"{where} line {n + 1}"
        lines.append(
            ShipmentLineRecord(
                line_ref=str(r.field(line, "line_ref", at)),
                sku=r.field(line, "sku", at, kind=str),
                quantity=r.integer(r.field(line, "quantity", at), "quantity", at),
            )
        )
    return ShipmentRecord(
        external_id=str(r.field(row, "id", where)),
        order_number=str(r.field(row, "order_number", where)),
        tracking_number=r.field(row, "tracking_number", where, kind=str),
        carrier=str(r.opt(row, "carrier")),
        service=str(r.opt(row, "service")),
        invoice_number=str(r.opt(row, "invoice_number")),
        warehouse=str(r.opt(row, "warehouse")),
        shipped_at=r.timestamp(r.field(row, "shipped_at", where), "shipped_at", where),
        lines=tuple(lines),
        updated_at=_updated_at(r, row, where),
    )


_STOCK_ROW = RowShape(sku=str, warehouse=str, on_hand=int, allocated=int, available=int, updated_at=str)
_stock_record = record_maker(StockLevelRecord)


def stock_level(r: PayloadReader, row: Any) -> StockLevelRecord:
    """One inventory row. A well-formed row (the whole of a normal page) takes the fast path; any other goes
    through the checks below, which accept what they accept and name the field they refuse."""
    values = _STOCK_ROW.values(row)
    if values is not None:
        updated_at = utc_timestamp(values[5])
        if updated_at is not None:
            return _stock_record(values[0], values[1], values[2], values[3], values[4], updated_at)
    return _stock_level_checked(r, row)


def stock_levels(r: PayloadReader, rows: list[Any]) -> list[StockLevelRecord]:
    """A page of inventory rows: `stock_level` of each, in one loop (an inventory page is the longest list the
    hub reads, so the per-row call and name lookups are worth saving)."""
    shape, stamp, make, records = _STOCK_ROW.values, utc_timestamp, _stock_record, []
    for row in rows:
        values = shape(row)
        if values is not None and (updated_at := stamp(values[5])) is not None:
            records.append(make(values[0], values[1], values[2], values[3], values[4], updated_at))
        else:
            records.append(_stock_level_checked(r, row))
    return records


def _stock_level_checked(r: PayloadReader, row: Any) -> StockLevelRecord:
    where = _where("inventory row", row, "sku")
    return StockLevelRecord(
        sku=r.field(row, "sku", where, kind=str),
        warehouse=r.field(row, "warehouse", where, kind=str),
        on_hand=r.integer(r.field(row, "on_hand", where), "on_hand", where),
        allocated=r.integer(r.field(row, "allocated", where), "allocated", where),
        available=r.integer(r.field(row, "available", where), "available", where),
        updated_at=_updated_at(r, row, where),
    )


def supply(r: PayloadReader, row: Any) -> Supply:
    where = _where("supply", row, "id")
    return Supply(
        sku=r.field(row, "sku", where, kind=str),
        warehouse=r.field(row, "warehouse", where, kind=str),
        quantity=r.integer(r.field(row, "quantity", where), "quantity", where),
        expected_date=_date(r, r.opt(row, "expected_date", None), "expected_date", where),
        purchase_order=str(r.opt(row, "purchase_order")),
        updated_at=_updated_at(r, row, where),
    )


def item(r: PayloadReader, row: Any) -> CatalogItem:
    where = _where("item", row, "sku")
    sku = r.field(row, "sku", where, kind=str)
    components = []
    for n, part in enumerate(r.opt(row, "components", []) or []):
        at = f"{where} component {n + 1}"
        quantity = r.integer(r.field(part, "quantity", at), "quantity", at)
        components.append((r.field(part, "sku", at, kind=str), quantity))
    prices = {
        name: None if r.opt(row, name, None) is None else r.decimal(row[name], name, where)
        for name in ("wholesale_price", "retail_price")
    }
    return CatalogItem(
        sku=sku,
        item_number=r.field(row, "item_number", where, kind=str),
        color_code=str(r.opt(row, "color_code")),
        prepack_run=str(r.opt(row, "prepack_run")),
        size=str(r.opt(row, "size")),
        upc=str(r.opt(row, "upc")),
        description=str(r.opt(row, "description")),
        active=r.field(row, "active", where, kind=bool),
        components=tuple(components),
        updated_at=_updated_at(r, row, where),
        **prices,
    )


def warehouse(r: PayloadReader, row: Any) -> WarehouseRecord:
    where = _where("warehouse", row, "code")
    code = r.field(row, "code", where, kind=str)
    return WarehouseRecord(
        external_id=code, name=str(r.opt(row, "name", code)), code=code, active=r.opt(row, "active", True)
    )


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


def iso(moment: datetime) -> str:
    """A query-string timestamp in UTC with a Z, as the contract reads it."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _updated_at(r: PayloadReader, row: Any, where: str) -> datetime | None:
    return r.timestamp(r.field(row, "updated_at", where), "updated_at", where)


def _date(r: PayloadReader, value: Any, name: str, where: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise BadResponse(f"field '{name}' in {where} is not a date: {value!r}", channel=r.label) from None


def _where(kind: str, row: Any, key: str) -> str:
    return f"{kind} {row.get(key)}" if isinstance(row, Mapping) and row.get(key) is not None else kind
