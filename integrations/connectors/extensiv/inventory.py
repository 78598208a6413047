"""Order Manager inventory: set on-hand per warehouse (POST /v1.1/inventory/adjust, ≤200 rows, per-row
errors with a 1-based index) and read it back (GET /v1/productstocks/total) for reconciliation.

Stock sits at named locations per warehouse (3PL warehouses: `GLOBAL`), so each row is adjusted at the
product's location in that warehouse, read from GET /v1/inventory once per warehouse per connector (one run)
and read again when an adjustment answers ERR097 (the row moved or is gone). The `stock_locations` setting
(`warehouse=location`, by id or name) overrides it for a warehouse."""

from collections.abc import Iterator, Sequence
from typing import Any

from integrations.connectors.reader import PayloadReader
from integrations.connectors.records import ChannelQuantity, QuantityResult, QuantityUpdate
from integrations.http import BadResponse, RateLimit, RateLimiter

ADJUST_PATH = "/v1.1/inventory/adjust"
INVENTORY_PATH = "/v1/inventory"
GLOBAL = "GLOBAL"  # the location of 3PL warehouses' stock
STOCK_TOTALS_PATH = "/v1/productstocks/total"
SKU_QUERY_LIMIT = 10  # up to this many SKUs: one filtered call each; more: read every page and filter here


class InventoryMixin:
    """Mixed into ExtensivConnector, whose settings, _call, _pages and caches it uses."""

    label: str
    settings: dict[str, Any]
    push_batch_size: int
    reader: PayloadReader
    _call: Any
    _pages: Any
    _warehouses: Any
    _listing_index: Any
    _stock_locations: dict[str, dict[str, list[str]]]  # warehouse id -> master SKU -> its locations there

    def quantities_push(self, updates: Sequence[QuantityUpdate]) -> list[QuantityResult]:
        """Set on-hand quantities (absolute), in batches of push_batch_size; one result per update, in order."""
        results: list[QuantityResult | None] = [None] * len(updates)
        ready: list[tuple[int, dict[str, Any]]] = []
        synced = {str(w.get("warehouseId")) for w in self._synced_warehouses()} if updates else set()
        for position, update in enumerate(updates):
            row, problem = self._adjust_row(update, synced)
            if row is None:
                results[position] = _result(update, problem)
            else:
                ready.append((position, row))
        for start in range(0, len(ready), self.push_batch_size):
            batch = ready[start : start + self.push_batch_size]
            failed = self._adjust([row for _, row in batch])
            failed = self._moved_rows_again(batch, failed)
            for offset, (position, _) in enumerate(batch):
                results[position] = _result(updates[position], failed.get(offset, ""))
        return [r for r in results if r is not None]

    def quantities_download(self, *, skus: Sequence[str] | None = None) -> Iterator[ChannelQuantity]:
        """On-hand per synced warehouse and channel SKU, as OM reports it (for reconciliation)."""
        channel_skus = self._channel_skus_by_master(skus)
        masters = sorted(channel_skus) if skus is not None else None
        # Master-SKU mode reads every product as itself; listing mode only what a listing stands for.
        as_itself = skus is None and not self.settings["use_listing_sku"]
        for warehouse in self._synced_warehouses():
            warehouse_id = str(self.reader.field(warehouse, "warehouseId", "a warehouse"))
            for row in self._stock_rows(warehouse_id, masters):
                product = self.reader.field(row, "product", "a stock total")
                master = str(self.reader.field(product, "masterSku", "a stock total"))
                where = f"the stock total of {master}"
                quantity = self.reader.integer(self.reader.field(row, "onHandQuantity", where), "onHandQuantity", where)
                for sku in channel_skus.get(master, [master] if as_itself else []):
                    yield ChannelQuantity(
                        sku, warehouse_id, quantity, product_id=str(self.reader.opt(product, "productId"))
                    )

    def _synced_warehouses(self) -> list[dict[str, Any]]:
        """The OM warehouses in scope: sync_warehouse if set, never an excluded one (matched by id or name)."""
        excluded = {str(e).lower() for e in self.settings["excluded_warehouses"]}
        only = str(self.settings["sync_warehouse"]).lower()
        synced = []
        for row in self._warehouses():
            names = {
                str(self.reader.field(row, "warehouseId", "a warehouse")).lower(),
                str(row.get("name") or "").lower(),
            }
            if not names & excluded and (not only or only in names):
                synced.append(row)
        return synced

    def _adjust_row(self, update: QuantityUpdate, synced: set[str]) -> tuple[dict[str, Any] | None, str]:
        if update.mode != "absolute":
            return None, "Order Manager sets on-hand quantities; relative updates are not supported"
        if str(update.warehouse_id) not in synced:
            return None, f"warehouse {update.warehouse_id} is not synced on this channel (excluded or not synced)"
        master, problem = self._master_sku(update.sku)
        if master is None:
            return None, problem
        location, problem = self._location(str(update.warehouse_id), master)
        if not location:
            return None, problem
        row = {
            "masterSku": master,
            "onHandQuantity": max(0, update.quantity),  # OM holds no negative on-hand
            "warehouseId": int(update.warehouse_id),
            "stockLocationName": location,
        }
        return row, ""

    def _location(self, warehouse_id: str, master: str) -> tuple[str, str]:
        """Where `master` is adjusted in the warehouse: the override, else its one location in OM."""
        override = self._location_override(warehouse_id)
        if override:
            return override, ""
        if warehouse_id not in self._stock_locations:
            found: dict[str, list[str]] = {}
            for row in self._pages(INVENTORY_PATH, {"warehouseId": warehouse_id}):
                where = "a product stock row"
                sku = str(self.reader.field(self.reader.field(row, "product", where), "masterSku", where))
                place = str(self.reader.field(self.reader.field(row, "stockLocation", where), "location", where))
                found.setdefault(sku, []).append(place)
            self._stock_locations[warehouse_id] = found
        places = self._stock_locations[warehouse_id].get(master, [])
        if not places:  # no row: OM says why (ERR053 no such product, ERR097 no stock row there)
            return GLOBAL, ""
        if len(places) > 1:  # setting one of them to the warehouse's figure would count the stock twice
            return "", (
                f"{master} is stocked at {len(places)} locations in warehouse {warehouse_id} "
                f"({', '.join(places)}): name one with the stock_locations setting"
            )
        return places[0], ""

    def _location_override(self, warehouse_id: str) -> str:
        names = {warehouse_id.lower()} | {
            str(w.get("name") or "").lower() for w in self._warehouses() if str(w.get("warehouseId")) == warehouse_id
        }
        for entry in self.settings["stock_locations"]:
            warehouse, _, location = str(entry).partition("=")
            if warehouse.strip().lower() in names and location.strip():
                return location.strip()
        return ""

    def _moved_rows_again(self, batch: list[tuple[int, dict[str, Any]]], failed: dict[int, str]) -> dict[int, str]:
        """ERR097 on a location read from OM: read the warehouse's locations again and resend the rows whose
        location changed (one more adjust call); the others keep their error."""
        missing = [o for o, error in failed.items() if error.startswith("ERR097")]
        warehouses = {str(batch[o][1]["warehouseId"]) for o in missing}
        stale = {w for w in warehouses if not self._location_override(w)}
        if not stale:
            return failed
        for warehouse in stale:
            self._stock_locations.pop(warehouse, None)
        again: list[tuple[int, dict[str, Any]]] = []
        for offset in missing:
            row = batch[offset][1]
            location, problem = self._location(str(row["warehouseId"]), row["masterSku"])
            if location and location != row["stockLocationName"]:
                row["stockLocationName"] = location
                again.append((offset, row))
            elif problem:
                failed[offset] = problem
        if again:
            retried = self._adjust([row for _, row in again])
            for n, (offset, _) in enumerate(again):
                failed.pop(offset, None)
                if n in retried:
                    failed[offset] = retried[n]
        return failed

    def _master_sku(self, sku: str) -> tuple[str | None, str]:
        if not self.settings["use_listing_sku"]:
            return sku, ""
        row = self._listing_index().get(sku)
        if row is None:
            return None, f"no Order Manager listing has SKU {sku}"
        if not row.get("masterSku"):
            return None, f"listing {sku} is not linked to an Order Manager product"
        return str(row["masterSku"]), ""

    def _adjust(self, rows: list[dict[str, Any]]) -> dict[int, str]:
        """Send one batch; the refused rows by 0-based position, with OM's code and message."""
        interval = self.settings["adjust_interval"]
        if interval > 0:  # OM tolerates about one adjust batch per 10 s; shared by the channel's connectors
            RateLimiter.for_channel(f"{self.label}:inventory-adjust", RateLimit(per_second=1 / interval)).acquire()
        # safe_to_retry: the adjust sets absolute quantities, so sending the same batch twice changes nothing.
        body = self._call("POST", ADJUST_PATH, json_body=rows, safe_to_retry=True)
        if not isinstance(body, dict) or ("errors" not in body and "results" not in body):
            raise BadResponse("field 'errors' is missing in the inventory adjust answer", channel=self.label)
        errors = self.reader.opt(body, "errors", [])
        if not isinstance(errors, list):
            raise BadResponse("field 'errors' in the inventory adjust answer is not a list", channel=self.label)
        failed = {}
        for error in errors:
            index = self.reader.integer(
                self.reader.field(error, "index", "an adjust error"), "index", "an adjust error"
            )
            if not 1 <= index <= len(rows):  # OM's index is 1-based
                raise BadResponse(
                    f"adjust error index {index} is outside the {len(rows)} rows sent", channel=self.label
                )
            code, message = self.reader.opt(error, "errorCode"), self.reader.opt(error, "message")
            failed[index - 1] = f"{code}: {message}" if code else str(message or "refused")
        return failed

    def _channel_skus_by_master(self, skus: Sequence[str] | None) -> dict[str, list[str]]:
        """master SKU → the channel SKUs it stands for (itself, or its listing SKUs), limited to `skus`."""
        wanted = set(skus) if skus is not None else None
        if not self.settings["use_listing_sku"]:
            return {sku: [sku] for sku in wanted} if wanted is not None else {}
        by_master: dict[str, list[str]] = {}
        for row in self._listing_index().values():
            listing, master = row.get("listingSku"), row.get("masterSku")
            if master and listing and (wanted is None or listing in wanted):
                by_master.setdefault(str(master), []).append(str(listing))
        return by_master

    def _stock_rows(self, warehouse_id: str, masters: list[str] | None) -> Iterator[dict[str, Any]]:
        params = {"warehouseId": warehouse_id}
        if masters is None or len(masters) > SKU_QUERY_LIMIT:
            wanted = set(masters) if masters is not None else None
            for row in self._pages(STOCK_TOTALS_PATH, params):
                product = self.reader.field(row, "product", "a stock total")
                if wanted is None or self.reader.field(product, "masterSku", "a stock total") in wanted:
                    yield row
            return
        for master in masters:  # the `sku` filter is what skubanaAccess sends; rows are checked again above
            yield from (
                row
                for row in self._pages(STOCK_TOTALS_PATH, {**params, "sku": master})
                if self.reader.field(self.reader.field(row, "product", "a stock total"), "masterSku", "a stock total")
                == master
            )


def _result(update: QuantityUpdate, error: str) -> QuantityResult:
    return QuantityResult(sku=update.sku, warehouse_id=str(update.warehouse_id), ok=not error, error=error)
