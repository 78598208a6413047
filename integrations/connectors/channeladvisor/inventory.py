"""Quantities per distribution center: UpdateQuantity per product (product ID from the update, else looked
up by exact SKU), and the DCQuantities read back for reconciliation and for settling unanswered pushes."""

from collections.abc import Iterator, Sequence

from integrations.connectors.channeladvisor import parse
from integrations.connectors.channeladvisor.client import ChannelAdvisorClient
from integrations.connectors.channeladvisor.query import any_of, quote
from integrations.connectors.records import ChannelQuantity, QuantityResult, QuantityUpdate
from integrations.http import AuthFailed, ChannelError, ServerError, TransportError

SKUS_PER_FILTER = 20  # keeps `Sku eq … or …` well inside URL length limits (414)


class InventoryMixin(ChannelAdvisorClient):
    push_batch_size = 100  # updates per chunk the inventory flow sends; each product is one UpdateQuantity call

    def quantities_push(self, updates: Sequence[QuantityUpdate]) -> list[QuantityResult]:
        """Set (relative rows: adjust) quantities per DC, one UpdateQuantity call per product; a result per row,
        except rows whose call may or may not have applied (no answer): left out, to be read back.

        Rows of several listings that name the same product and DC (a product whose SKU changed on the channel
        keeps its old listing too) are one write: sent once when they agree, every row getting its result;
        refused, unsent, when they disagree, since CA can hold only one of the quantities."""
        results: list[QuantityResult | None] = [None] * len(updates)
        groups: dict[tuple[str, str], list[int]] = {}
        ids_by_sku: dict[str, list[str]] = {}
        for index, update in enumerate(updates):
            product_id, problem = self._product_for(update, ids_by_sku)
            if not problem and not update.warehouse_id.isdigit():
                problem = f"warehouse {update.warehouse_id!r} is not a ChannelAdvisor distribution center ID"
            if problem:
                results[index] = QuantityResult(update.sku, update.warehouse_id, ok=False, error=problem)
            else:
                groups.setdefault((product_id, self._update_type(update)), []).append(index)
        for (product_id, update_type), indexes in groups.items():
            by_dc: dict[int, list[int]] = {}
            for i in indexes:
                by_dc.setdefault(int(updates[i].warehouse_id), []).append(i)
            sending: dict[int, list[int]] = {}
            for dc, rows in by_dc.items():
                if len({updates[i].quantity for i in rows}) == 1:
                    sending[dc] = rows  # one row per DC: listings naming the same product set it once
                    continue
                problem = _disagree(product_id, dc, [updates[i] for i in rows])
                for i in rows:
                    results[i] = QuantityResult(updates[i].sku, updates[i].warehouse_id, ok=False, error=problem)
            if not sending:
                continue
            error, unknown = self._update_quantity(product_id, update_type, [updates[r[0]] for r in sending.values()])
            for i in (i for rows in sending.values() for i in rows):
                if not unknown:
                    results[i] = QuantityResult(updates[i].sku, updates[i].warehouse_id, ok=not error, error=error)
        return [r for r in results if r is not None]

    def quantities_download(self, *, skus: Sequence[str] | None = None) -> Iterator[ChannelQuantity]:
        """Available quantity per product per DC; every product, or only these SKUs (matched exactly)."""
        if skus is None:
            chunks: list[Sequence[str] | None] = [None]
        else:
            chunks = [skus[i : i + SKUS_PER_FILTER] for i in range(0, len(skus), SKUS_PER_FILTER)]
        for chunk in chunks:
            params = {"$select": "ID,Sku", "$expand": "DCQuantities", "$orderby": "ID"}
            if chunk is not None:
                params["$filter"] = any_of("Sku", chunk)
            for product in self._complete(self._pages("/v1/Products", params), "/v1/Products", params):
                if chunk is None or self.reader.field(product, "Sku", "a product") in chunk:
                    yield from parse.dc_quantities(self.reader, product)

    def product_ids_for_sku(self, sku: str) -> list[str]:
        """IDs of the products whose SKU is exactly `sku` (CA's own match ignores case)."""
        params = {"$filter": f"Sku eq {quote(sku)}", "$select": "ID,Sku"}
        return [
            str(self.reader.field(p, "ID", "a product"))
            for p in self._pages("/v1/Products", params)
            if self.reader.field(p, "Sku", "a product") == sku
        ]

    def _product_for(self, update: QuantityUpdate, ids_by_sku: dict[str, list[str]]) -> tuple[str, str]:
        """(product ID, "") or ("", why not)."""
        if update.product_id:
            if not update.product_id.isdigit():
                return "", f"product id {update.product_id!r} is not a ChannelAdvisor product ID"
            return update.product_id, ""
        if update.sku not in ids_by_sku:
            try:
                ids_by_sku[update.sku] = self.product_ids_for_sku(update.sku)
            except AuthFailed:
                raise
            except ChannelError as exc:
                return "", f"looking up SKU {update.sku!r} failed: {exc}"
        ids = ids_by_sku[update.sku]
        if len(ids) == 1:
            return ids[0], ""
        if not ids:
            return "", f"no ChannelAdvisor product has SKU {update.sku!r}"
        return "", f"{len(ids)} ChannelAdvisor products have SKU {update.sku!r} ({', '.join(ids)}): set the product ID"

    def _update_type(self, update: QuantityUpdate) -> str:
        if update.mode == "relative":
            return "Relative"
        configured = self.settings["update_type"]
        return "Absolute" if configured == "Relative" else configured

    def _update_quantity(self, product_id: str, update_type: str, rows: list[QuantityUpdate]) -> tuple[str, bool]:
        """One UpdateQuantity call: ("", False) when accepted, else (reason, whether it may have applied)."""
        updates = [{"DistributionCenterID": int(row.warehouse_id), "Quantity": row.quantity} for row in rows]
        body = {"Value": {"UpdateType": update_type, "Updates": updates}}
        try:
            # Setting a quantity twice is harmless; adding it twice is not: Relative is never retried.
            safe = update_type != "Relative"
            response = self.http.post(f"/v1/Products({product_id})/UpdateQuantity", json_body=body, safe_to_retry=safe)
            self._accepted(response)  # an unreadable 200 is no proof: unknown, to be read back
        except AuthFailed:
            raise
        except TransportError as exc:
            return str(exc), exc.outcome_unknown
        except ServerError as exc:
            return str(exc), exc.status in (500, 502, 504)  # a gateway may have passed it on before failing
        except ChannelError as exc:
            return str(exc), False
        return "", False


def _disagree(product_id: str, dc: int, rows: list[QuantityUpdate]) -> str:
    listed = ", ".join(
        f"{row.sku} {row.quantity:+d}" if row.mode == "relative" else f"{row.sku} {row.quantity}" for row in rows
    )
    return (
        f"several listings name ChannelAdvisor product {product_id} with different quantities for distribution"
        f" center {dc} ({listed}): nothing sent; keep one of them mapped (ignore the other)"
    )
