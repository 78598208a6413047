"""Hold rules, checked before submission, each with a reason a person can act on; held orders are checked
again on every submit run and released as soon as the cause is fixed (e.g. the listing gets mapped)."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from catalog.models import MappingStatus
from integrations.bulk import rows_insert
from integrations.chunks import rows_in_chunks
from integrations.connectors.records import Address
from integrations.models import Channel
from orders.lines import CatalogLookup, component_rows
from orders.models import EventKind, HoldReason, Order, OrderEvent, OrderLine, OrderRules, OrderStatus
from orders.records import address_from
from orders.states import orders_transition

CHUNK = 500
RELEASED = "Released: the cause of the hold is fixed."


@dataclass(frozen=True)
class Hold:
    reason: str  # a HoldReason
    detail: str


def order_holds(*, order: Order, lines: Iterable[OrderLine], require_customer: bool) -> list[Hold]:
    """Every reason this order cannot be submitted now, most important first (lines need mapping and item)."""
    holds = []
    for line in lines:
        holds.extend(_line_holds(line))
    if require_customer and not order.customer_id:
        holds.append(Hold(HoldReason.NO_CUSTOMER, "No customer: this channel requires one on every order."))
    ship_to = address_from(order.ship_to)
    if not ship_to.is_complete():
        missing = ", ".join(_missing(ship_to))
        holds.append(Hold(HoldReason.SHIP_TO_INCOMPLETE, f"Ship-to address incomplete: missing {missing}."))
    order_by = list(HoldReason.values)
    return sorted(holds, key=lambda hold: order_by.index(hold.reason))


def order_hold_reasons(*, order: Order) -> list[Hold]:
    """Why this order would be held now (its lines re-mapped first), without moving it: for a check before an
    order leaves the fulfillment system."""
    rules = OrderRules.objects.filter(channel_id=order.channel_id).first()
    lines = lines_remap(order_ids=[order.pk], lookup=CatalogLookup(order.channel))
    return order_holds(
        order=order, lines=lines.get(order.pk, []), require_customer=bool(rules and rules.require_customer)
    )


def orders_hold_check(*, channel: Channel, orders: Iterable[Order] | None = None) -> dict[str, int]:
    """Re-map the lines of downloaded and held orders, then hold, re-hold or release them; counts by outcome."""
    rules = OrderRules.objects.filter(channel=channel).first()
    require_customer = bool(rules and rules.require_customer)
    if orders is None:
        orders = Order.objects.filter(channel=channel, status__in=(OrderStatus.DOWNLOADED, OrderStatus.HELD))
        orders = orders.filter(submitting_at=None)  # a claimed order is its submission's (a chunk task's, say)
        orders = orders.only("id", "status", "hold_reason", "hold_detail", "customer_id", "ship_to").order_by("id")
    lookup = CatalogLookup(channel)
    totals = {"held": 0, "released": 0, "ready": 0}
    batch: list[Order] = []
    for order in orders if isinstance(orders, list) else rows_in_chunks(orders, CHUNK):
        batch.append(order)
        if len(batch) >= CHUNK:
            _check_chunk(batch, lookup, require_customer, totals)
            batch = []
    if batch:
        _check_chunk(batch, lookup, require_customer, totals)
    return totals


def _check_chunk(orders: list[Order], lookup: CatalogLookup, require_customer: bool, totals: dict[str, int]) -> None:
    with transaction.atomic():
        lines = lines_remap(order_ids=[o.pk for o in orders], lookup=lookup)
        verdicts = {
            o.pk: order_holds(order=o, lines=lines.get(o.pk, []), require_customer=require_customer) for o in orders
        }
        to_hold: dict[tuple[str, str], list[Order]] = {}
        rehold, release = [], []
        for order in orders:
            holds = verdicts[order.pk]
            if not holds:
                if order.status == OrderStatus.HELD:
                    release.append(order)
                totals["ready"] += 1
                continue
            reason, detail = holds[0].reason, " ".join(hold.detail for hold in holds)
            totals["held"] += 1
            if order.status != OrderStatus.HELD:
                to_hold.setdefault((reason, detail), []).append(order)
            elif (order.hold_reason, order.hold_detail) != (reason, detail):
                order.hold_reason, order.hold_detail = reason, detail
                rehold.append(order)
        for (reason, detail), group in to_hold.items():
            fields = {"hold_reason": reason, "hold_detail": detail}
            orders_transition(orders=group, to=OrderStatus.HELD, message=f"Held: {detail}", fields=fields)
        _rehold(rehold)
        orders_transition(orders=release, to=OrderStatus.DOWNLOADED, message=RELEASED)
        totals["released"] += len(release)


def _rehold(orders: list[Order]) -> None:
    if not orders:
        return
    now = timezone.now()
    for order in orders:
        order.updated_at = now
    Order.objects.bulk_update(orders, ["hold_reason", "hold_detail", "updated_at"])
    OrderEvent.objects.bulk_create(
        OrderEvent(order_id=o.pk, kind=EventKind.HOLD, message=f"Still held: {o.hold_detail}", created_at=now)
        for o in orders
    )


def lines_remap(*, order_ids: list[int], lookup: CatalogLookup) -> dict[int, list[OrderLine]]:
    """Point the channel lines of these orders at their listing's current mapping and item, re-split bundles
    whose item changed, and return every line (with mapping and item loaded) by order id."""
    top = list(OrderLine.objects.filter(order_id__in=order_ids, parent__isnull=True).order_by("position", "id"))
    lookup.forget({line.channel_sku for line in top})
    lookup.load(line.channel_sku for line in top)
    changed = []
    for line in top:
        listing = lookup.listing(line.channel_sku)
        mapping_id = listing.mapping_id if listing else None
        item_id = listing.mapped_item_id if listing else None
        if (line.mapping_id, line.item_id) != (mapping_id, item_id) or line.is_bundle != bool(
            lookup.components(item_id)
        ):
            line.mapping_id, line.item_id, line.is_bundle = mapping_id, item_id, bool(lookup.components(item_id))
            changed.append(line)
    if changed:
        OrderLine.objects.bulk_update(changed, ["mapping", "item", "is_bundle"])
        OrderLine.objects.filter(parent__in=changed).delete()
        children = []
        for line in changed:
            parent = {name: getattr(line, name) for name in ("order_id", "external_id", "position", "channel_sku")}
            for child in component_rows({**parent, "item_id": line.item_id, "quantity": line.quantity}, lookup):
                children.append({**child, "parent_id": line.pk})
        rows_insert(children, model=OrderLine)
    by_order: dict[int, list[OrderLine]] = {}
    for line in OrderLine.objects.filter(order_id__in=order_ids).select_related("mapping", "item", "parent__item"):
        by_order.setdefault(line.order_id, []).append(line)
    return by_order


def _line_holds(line: OrderLine) -> list[Hold]:
    if line.parent_id:
        if line.item and not line.item.active:
            bundle = line.parent.item.sku if line.parent.item else line.parent.channel_sku
            return [Hold(HoldReason.INACTIVE_ITEM, f"Component {line.item.sku} of bundle {bundle} is inactive.")]
        return []
    sku = line.channel_sku or "(no SKU)"
    if line.mapping is None:
        return [Hold(HoldReason.UNMAPPED_SKU, f"SKU {sku} has no mapping.")]
    if line.mapping.status != MappingStatus.MAPPED:
        status = line.mapping.get_status_display().lower()
        return [Hold(HoldReason.UNMAPPED_SKU, f"SKU {sku} is not mapped to an item ({status}).")]
    if line.item and not line.item.active:
        return [Hold(HoldReason.INACTIVE_ITEM, f"SKU {sku} maps to inactive item {line.item.sku}.")]
    return []


def _missing(address: Address) -> list[str]:
    missing = [] if address.name or address.company else ["name"]
    wanted = (("line1", "street"), ("city", "city"), ("postal_code", "postal code"), ("country", "country"))
    return missing + [label for name, label in wanted if not getattr(address, name)]
