"""The per-channel inventory policy: the rules a calculation runs with, and the checks a policy must pass."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from inventory.formula import Formula, FormulaError, parse
from inventory.models import ChannelWarehouse, InventoryPolicy


@dataclass(frozen=True)
class Rules:
    """Everything a calculation needs from a policy, fixed for one run (or one unsaved preview)."""

    channel_id: int
    source: str = InventoryPolicy.Source.AVAILABLE
    formula: Formula | None = None
    buffer: int = 0
    maximum: int | None = None
    share_percent: int = 100
    mode: str = InventoryPolicy.Mode.PER_WAREHOUSE
    excluded_warehouse_ids: frozenset[int] = frozenset()
    combined_target_id: int | None = None
    push_mode: str = InventoryPolicy.PushMode.ABSOLUTE
    incoming_days: int = 0
    incoming_as_wip: bool = False
    minimum_level: int = 0
    subtract_pending_orders: bool = True

    @property
    def relative(self) -> bool:
        return self.push_mode == InventoryPolicy.PushMode.RELATIVE


def policy_for(*, channel_id: int) -> InventoryPolicy:
    """The channel's saved policy, or an unsaved one with the defaults."""
    policy = InventoryPolicy.objects.filter(channel_id=channel_id).first()
    return policy or InventoryPolicy(channel_id=channel_id)


def policy_rules(policy: InventoryPolicy, *, excluded_warehouse_ids: set[int] | None = None) -> Rules:
    """The rules of a policy; FormulaError if its formula cannot run (a saved policy's never can't)."""
    if excluded_warehouse_ids is None:
        excluded_warehouse_ids = set(policy.excluded_warehouses.values_list("id", flat=True)) if policy.pk else set()
    source = policy.source
    return Rules(
        channel_id=policy.channel_id,
        source=source,
        formula=parse(policy.formula) if source == InventoryPolicy.Source.FORMULA else None,
        buffer=policy.buffer,
        maximum=policy.maximum,
        share_percent=policy.share_percent,
        mode=policy.mode,
        excluded_warehouse_ids=frozenset(excluded_warehouse_ids),
        combined_target_id=policy.combined_target_id,
        push_mode=policy.push_mode,
        incoming_days=policy.incoming_days,
        incoming_as_wip=policy.incoming_as_wip,
        minimum_level=policy.minimum_level,
        subtract_pending_orders=policy.subtract_pending_orders,
    )


def formula_validate(text: str) -> None:
    """ValidationError with the position and reason when the formula cannot run."""
    try:
        parse(text)
    except FormulaError as exc:
        raise ValidationError(str(exc), code="formula") from None


def policy_errors(policy: InventoryPolicy) -> None:
    """Raise a ValidationError listing every field of the policy that is wrong."""
    errors: dict[str, str] = {}
    if policy.source == InventoryPolicy.Source.FORMULA and not policy.formula.strip():
        errors["formula"] = "Write the formula, or choose another quantity source."
    elif policy.formula.strip():
        try:
            parse(policy.formula)
        except FormulaError as exc:
            errors["formula"] = str(exc)
    if policy.share_percent > 100:
        errors["share_percent"] = "A share is at most 100%."
    if policy.maximum is not None and policy.maximum < policy.minimum_level:
        errors["maximum"] = "The maximum is below the minimum level, so every quantity would be sent as 0."
    if policy.incoming_as_wip and not policy.incoming_days:
        errors["incoming_days"] = "Say how many days ahead of incoming supply to send as WIP."
    target = policy.combined_target_id
    if target and not ChannelWarehouse.objects.filter(pk=target, channel_id=policy.channel_id).exists():
        errors["combined_target"] = "Choose one of this channel's warehouses."
    if errors:
        raise ValidationError(errors)
