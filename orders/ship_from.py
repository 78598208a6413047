"""Which of a sales channel's warehouses a shipment left from: the fulfillment warehouse it shipped from
(`Shipment.warehouse`, the fulfillment system's code) through its pairing (inventory's WarehousePairing) to
the channel warehouse it feeds. Only a warehouse paired with exactly one active channel warehouse of the
channel names one; otherwise the shipment names none and the run says why."""

from collections import defaultdict
from collections.abc import Iterable

from integrations.models import Channel
from inventory.models import WarehousePairing


def ship_from_warehouses(*, channel: Channel, codes: Iterable[str]) -> tuple[dict[str, str], dict[str, str]]:
    """({warehouse code: the channel warehouse's external id}, {warehouse code: why it names none}); one query."""
    codes = {code for code in codes if code}
    paired: dict[str, list[str]] = defaultdict(list)
    rows = WarehousePairing.objects.filter(
        channel_warehouse__channel=channel, channel_warehouse__active=True, warehouse__code__in=codes
    ).values_list("warehouse__code", "channel_warehouse__external_id")
    for code, external_id in rows.order_by("channel_warehouse__external_id"):
        paired[code].append(external_id)
    named, why = {}, {}
    for code in sorted(codes):
        found = paired.get(code, [])
        if len(found) == 1:
            named[code] = found[0]
        elif found:
            why[code] = (
                f"warehouse {code} is paired with {len(found)} warehouses of {channel.name} ({', '.join(found)}): "
                "its shipments do not name one (the channel's default applies, if set); keep one pairing to name it"
            )
        else:
            why[code] = (
                f"warehouse {code} is paired with no warehouse of {channel.name}: its shipments do not name one "
                "(the channel's default applies, if set); pair it to name it"
            )
    return named, why
