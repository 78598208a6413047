"""catalog.upload to NuORDER: the catalog as products, one per style (item number) and colour, with its sizes
and their UPCs, sent only when changed since NuORDER last accepted it.

- A product is active while any of its items is; its sizes are then its active items. A product whose items
  are all inactive is sent archived, with every size.
- NuORDER prices a style, not a size: the wholesale and retail prices of a style are its (active) items'
  prices; when they differ the highest is sent and the style goes to the issue queue.
- The channel settings `wholesale_price_type` and `retail_price_type` name the fulfillment system's price
  types; the hub keeps two, so each setting names `wholesale` or `retail` (PRICE_TYPES).
- Items without a size (general merchandise, bundles) are one size, ONE_SIZE.
"""

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from itertools import groupby
from typing import Any

from catalog.keys import ONE_SIZE
from catalog.models import Item, UploadKind
from catalog.sync_common import UPLOAD_FLOW, say
from catalog.uploads import content_hash, uploads_accepted, uploads_changed
from integrations.chunks import batched
from integrations.connectors.base import SettingsError
from integrations.connectors.capabilities import ProductSink
from integrations.connectors.records import Product, ProductSize
from integrations.flows import RunReport
from integrations.models import Channel
from integrations.selectors import open_issue_keys

PRICE_TYPES = {"wholesale": "wholesale_price", "retail": "retail_price"}
BATCH = 100
_COLUMNS = ("item_number", "color_code", "size", "upc", "description", "active", "wholesale_price", "retail_price")


@dataclass(frozen=True)
class StyleItem:
    item_number: str
    color_code: str
    size: str
    upc: str
    description: str
    active: bool
    wholesale_price: Decimal | None
    retail_price: Decimal | None


@dataclass(frozen=True)
class Planned:
    """A product to compare with what NuORDER accepted, and what a person should know about its prices."""

    key: str
    product: Product
    warning: str = ""


def price_fields(settings: Mapping[str, Any]) -> tuple[str, str]:
    """The Item fields the channel's wholesale and retail price types name."""
    wholesale, retail = (
        _price_field(name, settings.get(name) or "") for name in ("wholesale_price_type", "retail_price_type")
    )
    return wholesale, retail


def _price_field(setting: str, value: str) -> str:
    name = str(value).strip().lower().removesuffix("_price")
    if name not in PRICE_TYPES:
        raise SettingsError(
            f"setting '{setting}' names price type {value!r}; the hub keeps the fulfillment system's "
            f"{' and '.join(PRICE_TYPES)} prices: use one of those"
        )
    return PRICE_TYPES[name]


def products_upload(*, channel: Channel, connector: ProductSink, report: RunReport, dry_run: bool) -> None:
    """Send NuORDER the products that changed since it last accepted them, in batches."""
    wholesale, retail = price_fields(connector.settings)
    context: dict[str, Any] = {
        "season": connector.settings.get("season"),
        "currency": connector.settings.get("currency"),
    }
    open_keys = open_issue_keys(channel_id=channel.pk, flow=UPLOAD_FLOW)
    for batch in batched(catalog_products(wholesale=wholesale, retail=retail, currency=context["currency"]), BATCH):
        report.seen += len(batch)
        hashes = {p.key: content_hash([asdict(p.product), context]) for p in batch}
        changed = uploads_changed(channel=channel, kind=UploadKind.PRODUCT, hashes=hashes)
        sending = [p for p in batch if p.key in changed]
        report.skipped += len(batch) - len(sending)
        report.succeeded(*(p.key for p in batch if p.key not in changed and p.key in open_keys))
        if dry_run:
            for p in sending:
                _counted(report, p, existing=changed[p.key])
                say(report, f"{'update' if changed[p.key] else 'create'} product {p.key}")
            continue
        if sending:
            _send(channel, connector, report, sending, hashes, changed)


def _send(
    channel: Channel,
    connector: ProductSink,
    report: RunReport,
    sending: list[Planned],
    hashes: dict[str, str],
    changed: dict[str, bool],
) -> None:
    results = connector.products_upload([p.product for p in sending])
    accepted = {}
    for planned, result in zip(sending, results, strict=True):
        if not result.ok:
            report.issue(planned.key, f"NuORDER refused the product: {result.error}", asdict(planned.product))
            continue
        accepted[planned.key] = (hashes[planned.key], result.channel_id)
        _counted(report, planned, existing=changed[planned.key])
        report.succeeded(planned.key)
    uploads_accepted(channel=channel, kind=UploadKind.PRODUCT, accepted=accepted)


def _counted(report: RunReport, planned: Planned, *, existing: bool) -> None:
    if existing:
        report.updated += 1
    else:
        report.created += 1
    style = planned.product.style_number
    if planned.warning:
        # The product went through (counted above); the warning is about its style, for a person to look at.
        report.flag(f"style {style}", planned.warning)
    else:
        report.succeeded(f"style {style}")


def catalog_products(*, wholesale: str, retail: str, currency: str) -> Iterator[Planned]:
    """Every product of the catalog, style by style, streamed from the items in one ordered query."""
    rows = Item.objects.order_by("item_number", "color_code", "id").values_list(*_COLUMNS)
    items = (StyleItem(*row) for row in rows.iterator(chunk_size=2000))
    for style, grouped in groupby(items, key=lambda i: i.item_number):
        style_items = list(grouped)
        prices, warning = _style_prices(style, style_items, wholesale, retail)
        for color, color_items in groupby(style_items, key=lambda i: i.color_code):
            product = _product(style, color, list(color_items), prices, currency)
            yield Planned(key=f"{style}|{color}", product=product, warning=warning)


def _style_prices(
    style: str, items: list[StyleItem], wholesale: str, retail: str
) -> tuple[tuple[Decimal | None, Decimal | None], str]:
    """(wholesale, retail) for the style, and a warning when its items disagree (the highest is sent)."""
    priced = [i for i in items if i.active] or items
    chosen, problems = [], []
    for label, name in (("wholesale", wholesale), ("retail", retail)):
        values = sorted({getattr(i, name) for i in priced if getattr(i, name) is not None})
        chosen.append(values[-1] if values else None)
        if len(values) > 1:
            problems.append(f"{label} {', '.join(str(v) for v in values)}")
    warning = ""
    if problems:
        warning = (
            f"style {style} has more than one price ({'; '.join(problems)}); NuORDER takes one price per style, "
            "so the highest was sent"
        )
    return (chosen[0], chosen[1]), warning


def _product(
    style: str, color: str, items: list[StyleItem], prices: tuple[Decimal | None, Decimal | None], currency: str
) -> Product:
    active = [i for i in items if i.active]
    sizes = active or items
    return Product(
        style_number=style,
        color=color,
        name=product_name(sizes) or style,
        external_id="-".join(part for part in (style, color) if part),
        active=bool(active),
        wholesale=prices[0],
        retail=prices[1],
        currency=currency or "USD",
        sizes=tuple(ProductSize(size=i.size or ONE_SIZE, upc=i.upc) for i in sizes),
    )


def product_name(items: list[StyleItem]) -> str:
    """The words the items' descriptions share, once each trailing size is taken off."""
    word_lists = []
    for item in items:
        words = item.description.split()
        if item.size and words and words[-1] == item.size:
            words = words[:-1]
        word_lists.append(words)
    shared = []
    for column in zip(*word_lists, strict=False):
        if len(set(column)) > 1:
            break
        shared.append(column[0])
    return " ".join(shared)
