"""What the mapping import's preview shows for each changed row: the listing before and after, and a warning when
the change stops what the listing feeds (a mapped listing that is ignored gets no more stock; its orders are held,
as the order lines of a listing that is not mapped are)."""

from dataclasses import dataclass

from catalog.models import MappingStatus

STOPS = "stops: no more inventory pushes for this listing, and its new orders are held (SKU not mapped)"

# (item id, status, channel product id, channel UPC): a listing as it is, or as a row makes it.
Listing = tuple[int | None, str, str, str]


@dataclass(frozen=True)
class RowChange:
    row: int
    kind: str  # "new" or "update"
    values: tuple[str, ...]
    listing: str = ""  # "1001-RED-M on nuorder-main"
    before: str = ""  # the listing as it is ("mapped to 1001-RED-M"); blank for a new listing
    after: str = ""  # the listing as the row makes it
    warning: str = ""  # set when the change stops inventory or orders for the listing


def row_change(
    number: int,
    values: tuple[str, ...],
    listing: str,
    current: Listing | None,
    new: Listing,
    item_skus: dict[int, str],
) -> RowChange:
    """The preview of one row's change; `item_skus` names the items of both sides (fetched with the chunk)."""
    after = _describe(new, item_skus, current)
    if current is None:
        return RowChange(number, "new", values, listing, "new listing", after)
    before = _describe(current, item_skus)
    return RowChange(number, "update", values, listing, before, after, STOPS if stops(current, new) else "")


def stops(current: Listing | None, new: Listing) -> bool:
    """A mapped listing the row leaves unmapped or ignored: its stock pushes stop and its orders are held."""
    return current is not None and current[1] == MappingStatus.MAPPED and new[1] != MappingStatus.MAPPED


def _describe(listing: Listing, item_skus: dict[int, str], before: Listing | None = None) -> str:
    item_id, status, product_id, upc = listing
    text = f"mapped to {item_skus.get(item_id, '?')}" if status == MappingStatus.MAPPED else _label(status)
    if before is not None and product_id != before[2]:
        text += f"; product id {product_id or '(none)'}"
    if before is not None and upc != before[3]:
        text += f"; UPC {upc or '(none)'}"
    return text


def _label(status: str) -> str:
    return str(MappingStatus(status).label).lower()
