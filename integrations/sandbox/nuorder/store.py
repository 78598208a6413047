"""The NuORDER sandbox's rules for inventory posts and order updates, kept apart from the routes."""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from integrations.sandbox.server import HttpError

Cell = tuple[str, str, bool, str, str]  # product _id, warehouse, prebook, WIP bucket, size


class InventoryStore:
    """Quantities per product, warehouse, prebook flag, WIP bucket (`immediate` = ATS) and size."""

    def __init__(self, cells: dict[Cell, int] | None = None):
        # Kept per product: a post or a view touches one product's cells, never the whole account's.
        self.by_product: dict[str, dict[Cell, int]] = {}
        for cell, quantity in (cells or {}).items():
            self.put(cell, quantity)

    @property
    def cells(self) -> dict[Cell, int]:
        """Every cell (a copy: change them with `put`)."""
        return {cell: qty for cells in self.by_product.values() for cell, qty in cells.items()}

    def put(self, cell: Cell, quantity: int) -> None:
        self.by_product.setdefault(cell[0], {})[cell] = quantity

    def get(self, product_id: str, warehouse: str, size: str, bucket: str = "immediate", prebook=False) -> int | None:
        return self.by_product.get(product_id, {}).get((product_id, warehouse, prebook, bucket, size))

    def buckets(self, product_id: str, warehouse: str, size: str) -> dict[str, int]:
        """Every non-prebook bucket of one size in one warehouse: {bucket name: quantity}."""
        return {
            cell[3]: qty
            for cell, qty in self.by_product.get(product_id, {}).items()
            if cell[:3] == (product_id, warehouse, False) and cell[4] == size
        }

    def apply(self, product: dict, body: dict, warehouses: set[str]) -> None:
        """Validate the whole post, then replace, per warehouse, every bucket of each size it names."""
        planned = list(self._plan(product, body, warehouses))
        touched = {(warehouse, prebook, size) for warehouse, prebook, _, size, _ in planned}
        cells = self.by_product.setdefault(product["_id"], {})
        for cell in [c for c in cells if (c[1], c[2], c[4]) in touched]:
            del cells[cell]
        for warehouse, prebook, bucket, size, quantity in planned:
            cells[(product["_id"], warehouse, prebook, bucket, size)] = quantity

    def _plan(self, product: dict, body: dict, warehouses: set[str]):
        entries = body.get("inventory")
        if not isinstance(entries, list):
            raise HttpError(400, "inventory must be a list")
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("wip"), list):
                raise HttpError(400, "each inventory entry needs a warehouse and a wip list")
            if entry.get("warehouse") not in warehouses:
                raise HttpError(400, f"Unknown warehouse '{entry.get('warehouse')}'")
            prebook = bool(entry.get("prebook", False))
            for bucket in entry["wip"]:
                if not isinstance(bucket, dict) or not bucket.get("name") or not isinstance(bucket.get("sizes"), list):
                    raise HttpError(400, "each wip bucket needs a name and a sizes list")
                for size in bucket["sizes"]:
                    yield entry["warehouse"], prebook, bucket["name"], _size_of(product, size), _quantity(size)

    def view(self, product: dict) -> list[dict[str, Any]]:
        """What GET /api/product/{_id} shows under `warehouses` [I]: per warehouse, the post's buckets, immediate
        first; a size without a UPC carries none."""
        upcs = {s["size"]: s.get("upc", "") for s in product["sizes"]}
        rank = {s["size"]: i for i, s in enumerate(product["sizes"])}
        grouped: dict[tuple[str, bool], dict[str, list]] = defaultdict(lambda: defaultdict(list))
        cells = sorted(self.by_product.get(product["_id"], {}).items(), key=lambda item: _order(item, rank))
        for (product_id, warehouse, prebook, bucket, size), quantity in cells:
            if product_id == product["_id"]:
                entry = {"size": size, "quantity": quantity}
                if upcs.get(size):
                    entry["upc"] = upcs[size]
                grouped[(warehouse, prebook)][bucket].append(entry)
        return [
            {"warehouse": w, "prebook": p, "wip": [{"name": n, "sizes": s} for n, s in buckets.items()]}
            for (w, p), buckets in grouped.items()
        ]


def _order(item: tuple[Cell, int], rank: dict[str, int]) -> tuple:
    product_id, warehouse, prebook, bucket, size = item[0]
    return product_id, warehouse, prebook, bucket != "immediate", bucket, rank.get(size, len(rank)), size


def _size_of(product: dict, entry: Any) -> str:
    """The product's size an entry names: by UPC when it has one, else by size name."""
    if not isinstance(entry, dict):
        raise HttpError(400, "each size entry must be an object")
    for size in product["sizes"]:
        if entry.get("upc") and size.get("upc") == entry["upc"]:
            return size["size"]
    if not entry.get("upc"):
        for size in product["sizes"]:
            if size["size"] == entry.get("size"):
                return size["size"]
    raise HttpError(400, f"Product {product['_id']} has no size '{entry.get('size')}' (upc '{entry.get('upc', '')}')")


def _quantity(entry: dict) -> int:
    quantity = entry.get("quantity")
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise HttpError(400, "quantity must be an integer")
    return quantity


def check_order_update(order: dict, changes: Any, by_number: Callable[[str], dict | None]) -> None:
    """Refuse what NuORDER would: a non-object, a new `_id`, a taken order number, malformed shipments."""
    if not isinstance(changes, dict):
        raise HttpError(400, "The body must be a JSON object")
    if "_id" in changes and changes["_id"] != order["_id"]:
        raise HttpError(400, "_id cannot be changed")
    if "order_number" in changes:
        number = str(changes["order_number"] or "")
        if not number:
            raise HttpError(400, "order_number cannot be empty")
        other = by_number(number)
        if other is not None and other is not order:
            raise HttpError(409, f"Order number {number} is already used by another order")
    if "shipments" in changes:
        shipments = changes["shipments"]
        if not isinstance(shipments, list) or not all(_is_shipment(s) for s in shipments):
            raise HttpError(400, "shipments must be a list of {tracking_numbers: [], line_items: []}")
    if "line_items" in changes and not isinstance(changes["line_items"], list):
        raise HttpError(400, "line_items must be a list")


def _is_shipment(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("tracking_numbers", []), list)
        and isinstance(value.get("line_items", []), list)
    )
