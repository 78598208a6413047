"""Why is this listing 7? The steps of the calculation for one listing, per channel warehouse."""

from dataclasses import dataclass, field

from catalog.models import Item, ItemMapping
from inventory.models import Warehouse
from inventory.policies import Rules
from inventory.quantities import ALIASES, Calculation, ListingQuantity, Target, TargetTable, quantities_compute


@dataclass
class Breakdown:
    """One listing in one channel warehouse: the stock it draws on and each step to the quantity sent."""

    target: Target
    sku: str
    item_sku: str
    quantity: int
    warehouses: list[dict] = field(default_factory=list)  # code, on_hand, allocated, available
    components: list[dict] = field(default_factory=list)  # sku, quantity, ratio, buildable
    steps: list[tuple[str, int | str]] = field(default_factory=list)  # (what, running quantity or values)
    wip: tuple[tuple[str, int], ...] = ()


def quantity_breakdown(*, rules: Rules, mapping: ItemMapping) -> list[Breakdown]:
    """The breakdown of one listing under these rules (saved or not), for every target it has."""
    calculation = quantities_compute(rules=rules, mapping_ids=[mapping.pk])
    codes = dict(Warehouse.objects.values_list("id", "code"))
    skus = dict(Item.objects.filter(id__in=calculation.items).values_list("id", "sku"))
    breakdowns = []
    for row in calculation.quantities():
        table = _table(calculation, row)
        item = row.listing.item_id
        breakdown = Breakdown(row.target, row.listing.sku, skus.get(item, ""), row.quantity, wip=row.wip)
        breakdown.warehouses = [
            {"code": codes.get(wh, wh), "on_hand": on_hand, "allocated": allocated, "available": available}
            for it, wh, on_hand, allocated, available in calculation.facts.stock
            if it == item and wh in row.target.warehouse_ids
        ]
        breakdown.components = [
            {"sku": skus.get(c, c), "quantity": table.net.get(c, 0), "ratio": ratio,
             "buildable": max(table.net.get(c, 0), 0) // ratio}
            for c, ratio in calculation.facts.components.get(item, ())
        ]  # fmt: skip
        breakdown.steps = steps(calculation, table, item)
        breakdowns.append(breakdown)
    return breakdowns


def reason_short(calculation: Calculation, row: ListingQuantity) -> str:
    """The steps on one line, for dry-run output: `available: 12; - pending orders (2): 10`."""
    parts = [f"{label}: {value}" for label, value in steps(calculation, _table(calculation, row), row.listing.item_id)]
    return "; ".join(parts) + f" → {row.quantity}"


def _table(calculation: Calculation, row: ListingQuantity) -> TargetTable:
    return next(table for table in calculation.tables if table.target.id == row.target.id)


def steps(calculation: Calculation, table: TargetTable, item: int) -> list[tuple[str, int | str]]:
    """(what happened, the quantity after it) for each step that changed something."""
    rules = calculation.rules
    if table.target.retired:
        return [("no longer fed under the policy (pairing or combined mode changed): send 0", 0)]
    added = table.incoming_added.get(item, 0)
    result: list[tuple[str, int | str]] = []
    if rules.formula is not None:
        terms = {
            name: table.variables[ALIASES.get(name, name)].get(item, 0) for name in sorted(rules.formula.variables)
        }
        result.append((f"formula {rules.formula.text}", ", ".join(f"{n} = {v:g}" for n, v in terms.items()) or "-"))
        result.append(("formula result, rounded down", table.source.get(item, 0) - added))
    else:
        result.append((rules.source.replace("_", " "), table.source.get(item, 0) - added))
    if added:
        result.append((f"+ incoming within {rules.incoming_days} days ({added})", table.source[item]))
    pending = table.source.get(item, 0) - table.net.get(item, 0)
    if pending:
        result.append((f"- pending orders ({pending})", table.net.get(item, 0)))
    if calculation.facts.components.get(item):
        own = max(table.net.get(item, 0), 0)
        result.append((f"bundle: {own} pre-assembled + buildable from components", table.before_rules[item]))
    return result + _rule_steps(rules, table.before_rules[item])


def _rule_steps(rules: Rules, quantity: int) -> list[tuple[str, int | str]]:
    result: list[tuple[str, int | str]] = []
    if rules.buffer:
        quantity = max(quantity - rules.buffer, 0)
        result.append((f"- safety buffer ({rules.buffer})", quantity))
    if rules.share_percent != 100:
        quantity = quantity * rules.share_percent // 100
        result.append((f"x share {rules.share_percent}%", quantity))
    if rules.maximum is not None and quantity > rules.maximum:
        quantity = rules.maximum
        result.append((f"capped at the maximum ({rules.maximum})", quantity))
    if quantity < rules.minimum_level:
        result.append((f"below the minimum level ({rules.minimum_level}): send 0", 0))
    return result
