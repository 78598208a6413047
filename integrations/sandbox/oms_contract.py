"""The sandbox OMS's side of docs/oms-api.md that is not state: keyset cursor paging, rendering rows as
JSON, the error body, and validation of a submitted order."""

import base64
import bisect
import json
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

from integrations.sandbox.server import HttpError, Request

MAX_LIMIT = 500
ADDRESS_REQUIRED = ("line1", "city", "postal_code", "country")


def error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def page(
    request: Request,
    rows: Iterable[dict],
    key: Callable[[dict], tuple],
    *,
    hide: tuple[str, ...] = (),
    ordered: "Ordered | None" = None,
) -> dict[str, Any]:
    """One page of `rows` ordered by (updated_at, key), after `cursor`, at or after `updated_since`. Pass
    `ordered` (from `rows_ordered`, kept while nothing changed) so a page costs a bisection, not a sort of every
    row: listing 300,000 stock rows 100 at a time sorted them 3,000 times."""
    limit = _limit(request)
    since = _time(request.q("updated_since"), "updated_since")
    after = _decode_cursor(request.q("cursor"))
    selected, keys = ordered or rows_ordered(rows, key)
    start = 0 if since is None else bisect.bisect_left(keys, (since,))
    if after is not None:
        start = max(start, bisect.bisect_right(keys, after))
    chunk = selected[start : start + limit]
    more = len(selected) > start + limit
    return {
        "data": [render(r, hide) for r in chunk],
        "next_cursor": _encode_cursor(chunk[-1]["updated_at"], key(chunk[-1])) if more else None,
    }


Ordered = tuple[list[dict], list[tuple]]


def rows_ordered(rows: Iterable[dict], key: Callable[[dict], tuple]) -> Ordered:
    """The rows in page order, with their (updated_at, key) sort keys alongside."""
    selected = sorted(rows, key=lambda r: (r["updated_at"], key(r)))
    return selected, [(r["updated_at"], key(r)) for r in selected]


def render(row: dict, hide: tuple[str, ...] = ()) -> dict[str, Any]:
    """A JSON-ready deep copy (the server serialises after the state lock is released)."""
    return {k: _plain(v) for k, v in row.items() if k not in hide}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return render(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _limit(request: Request) -> int:
    raw = request.q("limit", "100") or ""
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise HttpError(400, f"limit must be an integer from 1 to {MAX_LIMIT}.")
    return int(raw)


def _time(raw: str | None, name: str) -> datetime | None:
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise HttpError(400, f"{name} is not an ISO-8601 date and time: {raw!r}.") from None
    if moment.tzinfo is None:
        raise HttpError(400, f"{name} must carry a UTC offset, e.g. 2026-11-01T08:00:00Z.")
    return moment


def _encode_cursor(updated_at: datetime, key: tuple) -> str:
    return base64.urlsafe_b64encode(json.dumps([iso(updated_at), *key]).encode()).decode().rstrip("=")


def _decode_cursor(raw: str | None) -> tuple | None:
    if raw is None:
        return None
    try:
        stamp, *key = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        return (datetime.fromisoformat(stamp), tuple(key))
    except (ValueError, TypeError):
        raise HttpError(400, "cursor is not valid; send the next_cursor of the previous page unchanged.") from None


# Order submission.


def order_from_payload(body: Any, items: dict[str, dict]) -> dict[str, Any]:
    """The order fields to store from a submitted body; 422 naming the field if it is invalid."""
    if not isinstance(body, dict):
        _invalid("The order must be a JSON object.")
    order = {
        "reference": _text(body, "reference", required=True),
        "channel": _text(body, "channel"),
        "currency": _text(body, "currency") or "USD",
        "shipping_method": _text(body, "shipping_method"),
        "customer": _object(body, "customer", nullable=True),
        "ship_to": _address(body, "ship_to", required=True),
        "bill_to": _address(body, "bill_to"),
        "lines": _lines(body.get("lines"), items),
        "attributes": _object(body, "attributes") or {},
    }
    return order


def _invalid(message: str, code: str = "invalid") -> NoReturn:
    raise HttpError(422, body=error(code, message))


def _text(obj: dict, name: str, *, required: bool = False, where: str = "") -> str:
    value = obj.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        _invalid(f"{where}{name} is required and must be a string.")
    return value


def _object(obj: dict, name: str, *, nullable: bool = True) -> dict | None:
    value = obj.get(name)
    if value is None and nullable:
        return None
    if not isinstance(value, dict):
        _invalid(f"{name} must be an object.")
    return dict(value)


def _address(body: dict, name: str, *, required: bool = False) -> dict:
    address = _object(body, name, nullable=not required) or {}
    if required:
        for part in ADDRESS_REQUIRED:
            _text(address, part, required=True, where=f"{name}.")
        if not (address.get("name") or address.get("company")):
            _invalid(f"{name}.name or {name}.company is required.")
    return address


def _lines(lines: Any, items: dict[str, dict]) -> list[dict]:
    if not isinstance(lines, list) or not lines:
        _invalid("lines must be a non-empty list.")
    clean, seen = [], set()
    for n, line in enumerate(lines):
        where = f"lines[{n}]."
        if not isinstance(line, dict):
            _invalid(f"lines[{n}] must be an object.")
        ref, sku = _text(line, "line_ref", required=True, where=where), _text(line, "sku", required=True, where=where)
        if ref in seen:
            _invalid(f"{where}line_ref {ref!r} is used twice.")
        seen.add(ref)
        if sku not in items:
            _invalid(f"{where}sku {sku!r} is not a known item.", code="unknown_sku")
        quantity = line.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            _invalid(f"{where}quantity must be a positive integer.")
        try:
            price = str(Decimal(str(line.get("unit_price", "0"))))
        except InvalidOperation:
            _invalid(f"{where}unit_price must be a decimal string.")
        clean.append({"line_ref": ref, "sku": sku, "quantity": quantity, "unit_price": price, "shipped_quantity": 0})
    return clean
