"""Auto-mapping: match channel listings to active items by UPC, then by SKU pattern, set-based.

Precedence, per listing:
1. UPC. When the listing's UPC belongs to exactly one active item, that item is chosen, unless the SKU
   patterns point at other items only: then UPC and SKU disagree and the listing is a conflict.
2. SKU pattern, when the UPC matched nothing: the listing SKU is looked up in an index built from the
   items' side (`<Item Number>`, `<Item Number>-<Color Code>-<Prepack Run>-<Size>`,
   `<Item Number>-<Color Code>-<Prepack Run>`, `<Item Number>-<Color Code>-<Size>`); exactly one
   active item maps it, two or more make a conflict that names them. A listing that keeps its parts apart
   (`data["variant"]`: NuORDER's style, colour and size) is compared with the items' item number, colour code
   and size field by field instead (VARIANT; an item without a size is NuORDER's one size, `OS`).
SKUs compare case-insensitively and UPCs without leading zeros (`catalog.keys`), except on channels whose SKUs
are case-sensitive (`Connector.sku_case_sensitive`, ChannelAdvisor): there a SKU must equal a pattern exactly, and
a listing whose SKU differs from an item's pattern only by case is a conflict, whatever its UPC says (`abc-red-m`
beside `ABC-RED-M` is another listing, and mapping both would offer the same units twice). Inactive items never
match. Listings mapped by a person (PROTECTED_METHODS) or ignored keep their item and status; when
auto-mapping would pick another item it is recorded as `suggested_item` with the reason in `note`.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, QuerySet
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Trim, Upper

from catalog.keys import listing_variant, sku_key, upc_key, variant_key
from catalog.models import PROTECTED_METHODS, Item, ItemMapping, MappingMethod, MappingStatus
from integrations.bulk import upsert
from integrations.connectors import connector_class
from integrations.connectors.records import VARIANT_KEY
from integrations.models import Channel

GENERAL = "<Item Number>"
FULL = "<Item Number>-<Color Code>-<Prepack Run>-<Size>"
PREPACK = "<Item Number>-<Color Code>-<Prepack Run>"
SIZE = "<Item Number>-<Color Code>-<Size>"
# A listing that keeps its parts apart (NuORDER's style, colour and size: `Listing.data["variant"]`) is compared
# field by field, never by a joined SKU: style numbers carry dashes, so `4156301-4` + `RED` and `4156301` + `4-RED`
# would join alike.
VARIANT = "<Item Number>, <Color Code>, <Size> (field by field)"

AUTOMAP_CHUNK = 2000
_NAMED_CANDIDATES = 10
_LOADED_FIELDS = (
    "id",
    "channel_id",
    "channel_sku",
    "channel_upc",
    "item_id",
    "method",
    "status",
    "suggested_item_id",
    "note",
)
_WRITTEN_COLUMNS = ("channel_id", "channel_sku", "item_id", "method", "status", "suggested_item_id", "note")


@dataclass
class AutomapResult:
    """Listings by outcome: mapped, conflict, unmapped, suggested (protected or ignored listings given a
    suggestion), kept (protected or ignored, nothing to suggest); `changed` is how many rows were written."""

    counts: Counter = field(default_factory=Counter)


@dataclass(frozen=True)
class Decision:
    item_id: int | None
    method: str
    status: str
    note: str


def item_sku_keys(
    item_number: str, color: str, prepack: str, size: str, *, case_sensitive: bool = False
) -> dict[str, str]:
    """Every listing SKU under which an item can be recognised, with the pattern it follows."""
    keys: dict[str, str] = {}
    for value, pattern in _item_patterns(item_number, color, prepack, size):
        keys.setdefault(sku_key(value, case_sensitive=case_sensitive), pattern)
    return keys


def _item_patterns(item_number: str, color: str, prepack: str, size: str) -> list[tuple[str, str]]:
    """The SKUs an item can be listed under, as written, with their pattern, in order of precedence (the first
    pattern giving a key wins it). Built once per item: ItemIndex derives both key forms from them."""
    if not item_number:
        return []
    patterns = [(item_number, GENERAL)]
    if color and prepack and size:
        patterns.append((f"{item_number}-{color}-{prepack}-{size}", FULL))
    if color and prepack:
        patterns.append((f"{item_number}-{color}-{prepack}", PREPACK))
    if color and size:
        patterns.append((f"{item_number}-{color}-{size}", SIZE))
    return patterns


class ItemIndex:
    """Items keyed by UPC and by SKU pattern, active and inactive apart, loaded in one query."""

    def __init__(self, *, exact: bool = False) -> None:
        self.exact = exact  # also index the patterns as written, for channels with case-sensitive SKUs
        self.skus: dict[int, str] = {}
        self.by_upc: dict[str, list[int]] = defaultdict(list)
        self.by_sku: dict[str, dict[int, str]] = defaultdict(dict)
        self.by_exact_sku: dict[str, dict[int, str]] = defaultdict(dict)  # patterns as written, case kept
        self.by_variant: dict[tuple[str, str, str], dict[int, str]] = defaultdict(dict)
        self.inactive_by_upc: dict[str, list[int]] = defaultdict(list)
        self.inactive_by_sku: dict[str, list[int]] = defaultdict(list)
        self.inactive_by_variant: dict[tuple[str, str, str], list[int]] = defaultdict(list)

    @classmethod
    def load(cls, *, exact: bool = False) -> "ItemIndex":
        index = cls(exact=exact)
        rows = Item.objects.values_list(
            "id", "sku", "item_number", "color_code", "prepack_run", "size", "upc", "active"
        )
        for item_id, sku, number, color, prepack, size, upc, active in rows.iterator(chunk_size=10_000):
            index.add(item_id, sku, number, color, prepack, size, upc, active)
        return index

    def add(self, item_id: int, sku: str, number: str, color: str, prepack: str, size: str, upc: str, active: bool):
        self.skus[item_id] = sku
        upc = upc_key(upc)  # once: this runs per item of the catalog
        if upc:
            (self.by_upc if active else self.inactive_by_upc)[upc].append(item_id)
        # One pass over the item's patterns for both key forms (sku_key's two rules, inlined: this runs per item
        # of the catalog on every download that brings a new listing).
        keys: dict[str, str] = {}
        exact_keys: dict[str, str] = {}
        for value, pattern in _item_patterns(number, color, prepack, size):
            stripped = value.strip()
            keys.setdefault(stripped.upper(), pattern)
            exact_keys.setdefault(stripped, pattern)
        for key, pattern in keys.items():
            if active:
                self.by_sku[key][item_id] = pattern
            else:
                self.inactive_by_sku[key].append(item_id)
        if number:
            if active:
                self.by_variant[variant_key(number, color, size)][item_id] = VARIANT
            else:
                self.inactive_by_variant[variant_key(number, color, size)].append(item_id)
        if active and self.exact:
            for exact, pattern in exact_keys.items():
                self.by_exact_sku[exact][item_id] = pattern

    def names(self, item_ids) -> str:
        names = sorted(self.skus[i] for i in item_ids)
        shown = ", ".join(names[:_NAMED_CANDIDATES])
        more = len(names) - _NAMED_CANDIDATES
        return f"{shown} and {more} more" if more > 0 else shown

    def decide(
        self,
        channel_sku: str,
        channel_upc: str,
        *,
        case_sensitive: bool = False,
        case_twin: bool = False,
        variant: tuple[str, str, str] | None = None,
    ) -> Decision:
        """The item a listing maps to, or why none: UPC first, then SKU pattern (or, for a listing that keeps its
        parts apart, `variant` = (style, colour, size), those parts field by field). Where the channel's SKUs are
        case-sensitive, a SKU must equal a pattern exactly; one that differs from a pattern only by case, or
        that has a case twin among the channel's listings (`case_twin`), is a conflict for a person."""
        upc = upc_key(channel_upc)
        upc_ids = self.by_upc.get(upc, []) if upc else []
        if variant is not None:
            sku_hits = self.by_variant.get(variant_key(*variant), {})
        else:
            sku_hits = self.by_sku.get(sku_key(channel_sku), {})
        if case_sensitive and variant is None:
            exact = self.by_exact_sku.get(sku_key(channel_sku, case_sensitive=True), {})
            if not exact and (sku_hits or case_twin):
                return self.conflict(
                    {*sku_hits, *upc_ids},
                    f"SKU {channel_sku} differs only by case from "
                    f"{'an item' if sku_hits else 'another listing'}'s SKU, and this channel's SKUs are "
                    "case-sensitive (a listing of its own, which would be offered the same units); map it by hand "
                    "if it is the same product",
                )
            sku_hits = exact
        if len(upc_ids) == 1:
            item_id = upc_ids[0]
            if sku_hits and item_id not in sku_hits:
                reason = (
                    f"UPC {channel_upc} matches {self.names([item_id])} but SKU pattern matches {self.names(sku_hits)}"
                )
                return self.conflict({item_id, *sku_hits}, reason)
            return Decision(
                item_id, MappingMethod.UPC, MappingStatus.MAPPED, f"UPC {channel_upc} matches item {self.skus[item_id]}"
            )
        if upc_ids:
            return self.conflict(upc_ids, f"UPC {channel_upc} matches {len(upc_ids)} items")
        if len(sku_hits) == 1:
            ((item_id, pattern),) = sku_hits.items()
            return Decision(
                item_id,
                MappingMethod.SKU_PATTERN,
                MappingStatus.MAPPED,
                f"SKU pattern {pattern} matches item {self.skus[item_id]}",
            )
        if sku_hits:
            return self.conflict(sku_hits, f"SKU {channel_sku} matches {len(sku_hits)} items by pattern")
        return Decision(None, "", MappingStatus.UNMAPPED, self.why_unmapped(channel_sku, channel_upc, variant))

    def conflict(self, item_ids, reason: str) -> Decision:
        return Decision(None, "", MappingStatus.CONFLICT, f"{reason}: {self.names(set(item_ids))}")

    def why_unmapped(self, channel_sku: str, channel_upc: str, variant: tuple[str, str, str] | None = None) -> str:
        upc = upc_key(channel_upc)
        by_parts = (
            self.inactive_by_variant.get(variant_key(*variant), [])
            if variant
            else self.inactive_by_sku.get(sku_key(channel_sku), [])
        )
        inactive = {*by_parts, *(self.inactive_by_upc.get(upc, []) if upc else [])}
        if inactive:
            return f"Only inactive items match: {self.names(inactive)}"
        sku_part = f"SKU {channel_sku} matches no item number pattern"
        if variant:
            style, color, size = variant
            sku_part = (
                f"no item has item number {style!r}, colour code {color!r} and size {size!r} "
                "(an item without a size is size OS)"
            )
        return f"No active item has UPC {channel_upc}; {sku_part}" if upc else sku_part


def mapping_automap(
    *,
    mappings: QuerySet[ItemMapping] | None = None,
    channel: Channel | None = None,
    chunk_size: int = AUTOMAP_CHUNK,
) -> AutomapResult:
    """Auto-map listings (all, a queryset, and/or one channel's): one query for the item index, then one
    read and one bulk upsert per chunk of listings; only changed rows are written."""
    queryset = ItemMapping.objects.all() if mappings is None else mappings
    if channel is not None:
        queryset = queryset.filter(channel=channel)
    exact = case_sensitive_channels()
    index = ItemIndex.load(exact=bool(exact))
    twins = case_twins(channel_ids=exact)
    result = AutomapResult()
    for chunk in _chunks(queryset, chunk_size):
        changed = [
            mapping
            for mapping in chunk
            if _apply(
                mapping,
                index.decide(
                    mapping.channel_sku,
                    mapping.channel_upc,
                    case_sensitive=mapping.channel_id in exact,
                    case_twin=(mapping.channel_id, sku_key(mapping.channel_sku)) in twins,
                    variant=listing_variant({VARIANT_KEY: mapping.variant_parts}),
                ),
                result.counts,
            )
        ]
        _write(changed)
        result.counts["changed"] += len(changed)
    return result


def case_sensitive_channels() -> set[int]:
    """The channels whose connector tells SKUs apart by case (a fact of the channel's API)."""
    sensitive = set()
    for pk, kind in Channel.objects.values_list("pk", "kind"):
        try:
            if connector_class(kind).sku_case_sensitive:
                sensitive.add(pk)
        except LookupError:
            continue
    return sensitive


def case_twins(*, channel_ids: Iterable[int]) -> set[tuple[int, str]]:
    """(channel, SKU folded) where two listings of the channel differ only by case: one grouped query."""
    ids = list(channel_ids)
    if not ids:
        return set()
    rows = (
        ItemMapping.objects.filter(channel_id__in=ids)
        .annotate(key=Upper(Trim("channel_sku")))
        .values("channel_id", "key")
        .annotate(listings=Count("id"))
        .filter(listings__gt=1)
        .order_by()
        .values_list("channel_id", "key")
    )
    return set(rows)


def _write(changed: list[ItemMapping]) -> None:
    """An upsert on (channel, channel_sku) rather than bulk_update: bulk_update builds a CASE per field per
    row in Python (about 2 ms a row), and bulk_create a model per row; the tuple upsert costs a fraction.
    The price: a listing deleted between this chunk's read and its write would come back bare; the window
    is one chunk."""
    if not changed:
        return
    rows = [(m.channel_id, m.channel_sku, m.item_id, m.method, m.status, m.suggested_item_id, m.note) for m in changed]
    upsert(ItemMapping, columns=_WRITTEN_COLUMNS, rows=rows, unique=_WRITTEN_COLUMNS[:2], update=_WRITTEN_COLUMNS[2:])


def _chunks(queryset: QuerySet[ItemMapping], size: int):
    """Keyset pagination by pk: safe while the same rows are being updated, one query per chunk."""
    # Only the variant of `data` (a CA listing's data carries its images and attributes): extracted in SQL.
    queryset = queryset.select_related(None).only(*_LOADED_FIELDS).order_by("pk")
    queryset = queryset.annotate(variant_parts=KeyTransform(VARIANT_KEY, "data"))
    last_pk = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last_pk)[:size])
        if chunk:
            yield chunk
        if len(chunk) < size:
            return
        last_pk = chunk[-1].pk


def _apply(mapping: ItemMapping, decision: Decision, counts: Counter) -> bool:
    before = (mapping.item_id, mapping.method, mapping.status, mapping.suggested_item_id, mapping.note)
    if mapping.method in PROTECTED_METHODS or mapping.status == MappingStatus.IGNORED:
        counts[_suggest(mapping, decision)] += 1
    else:
        mapping.item_id, mapping.method, mapping.status = decision.item_id, decision.method, decision.status
        mapping.note, mapping.suggested_item_id = decision.note, None
        counts[decision.status] += 1
    return before != (mapping.item_id, mapping.method, mapping.status, mapping.suggested_item_id, mapping.note)


def _suggest(mapping: ItemMapping, decision: Decision) -> str:
    """A person's choice stands; a different automatic pick is only offered as a suggestion."""
    if decision.status == MappingStatus.MAPPED and decision.item_id != mapping.item_id:
        mapping.suggested_item_id = decision.item_id
        mapping.note = f"Suggested: {decision.note}"
        return "suggested"
    if mapping.suggested_item_id is not None:  # an earlier suggestion no longer holds; its note was ours
        mapping.suggested_item_id = None
        mapping.note = ""
    return "kept"
