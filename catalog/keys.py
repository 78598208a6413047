"""How listing and item identifiers are compared: one normalisation shared by auto-mapping and imports."""

from collections.abc import Mapping
from typing import Any

from integrations.connectors.records import VARIANT_KEY

# The size NuORDER gets for an item without one (general merchandise, bundles): see catalog/product_upload.py.
ONE_SIZE = "OS"

# GTIN widths a UPC can be written in: EAN-8, UPC-A, EAN-13, GTIN-14.
_GTIN_WIDTHS = (8, 12, 13, 14)


def sku_key(value: str, *, case_sensitive: bool = False) -> str:
    """SKUs compare ignoring surrounding spaces, and case-insensitively unless the channel's SKUs are
    case-sensitive (ChannelAdvisor: `abc-red-m` and `ABC-RED-M` are two listings)."""
    return value.strip() if case_sensitive else value.strip().upper()


def upc_key(value: str) -> str:
    """A numeric UPC compares without leading zeros, so a 12-digit UPC-A matches its 13-digit EAN form
    (a spreadsheet that stored the UPC as a number has lost them anyway)."""
    value = value.strip()
    if value.isdigit():
        return value.lstrip("0")
    return value.upper()


def upc_variants(value: str) -> set[str]:
    """The spellings an item's UPC may be stored under for this key, for an indexed `upc__in` lookup."""
    key = upc_key(value)
    if not key:
        return set()
    if not key.isdigit():
        return {value.strip(), key}
    return {key, value.strip()} | {key.zfill(width) for width in _GTIN_WIDTHS if width > len(key)}


def variant_key(item_number: str, color: str, size: str) -> tuple[str, str, str]:
    """Style, colour and size compared part by part, ignoring case and surrounding spaces; an empty size is the
    one size NuORDER is sent for it (ONE_SIZE), so item `GM501` (no size) is NuORDER's `GM501` size `OS`."""
    return (item_number.strip().upper(), color.strip().upper(), (size.strip() or ONE_SIZE).upper())


def listing_variant(data: Mapping[str, Any] | None) -> tuple[str, str, str] | None:
    """A listing's (style, colour, size) when it keeps them apart (`data["variant"]`), else None."""
    parts = (data or {}).get(VARIANT_KEY) if isinstance(data, Mapping) else None
    if not isinstance(parts, Mapping) or not str(parts.get("style") or "").strip():
        return None
    return (str(parts.get("style") or ""), str(parts.get("color") or ""), str(parts.get("size") or ""))
