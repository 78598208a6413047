"""inventory.reconcile: what each channel shows against what the hub computes — the discrepancy report —
and "push again" for the rows a person picks from it."""

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from integrations.connectors import connector_for
from integrations.connectors.capabilities import QuantitySink, QuantitySource, capability
from integrations.cursors import cursor_lock
from integrations.flows import RunReport
from integrations.http import ChannelError
from integrations.models import Channel, SyncRun
from inventory.ledger import channel_quantities, ledger_for, ledger_write
from inventory.models import Discrepancy, PushLedger
from inventory.policies import Rules, policy_for, policy_rules
from inventory.quantities import quantities_compute
from inventory.runs import side_run_record
from inventory.upload import inventory_upload_run

UPLOAD_FLOW = "inventory.upload"


def inventory_reconcile_run(
    *, channel_id: int, rules: Rules, connector: QuantitySource, report: RunReport, dry_run: bool
):
    """Replace the channel's discrepancy rows with every listing whose channel quantity differs from the hub's."""
    calculation = quantities_compute(rules=rules)
    found = channel_quantities(connector=connector, channel_id=channel_id, record_warehouses=not dry_run)
    pushed = {
        (mapping_id, cw_id): (quantity, at)
        for mapping_id, cw_id, quantity, at in PushLedger.objects.filter(
            channel_warehouse__channel_id=channel_id
        ).values_list("mapping_id", "channel_warehouse_id", "quantity", "accepted_at")
    }
    now, rows = timezone.now(), []
    for row in calculation.quantities():
        key = (row.listing.mapping_id, row.target.id)
        if row.target.retired and key not in pushed:
            continue  # a warehouse no longer fed, and this listing never pushed there: not ours to judge
        report.seen += 1
        channel_quantity = found.get(key)
        if channel_quantity == row.quantity:
            report.skipped += 1
            continue
        last, at = pushed.get(key, (None, None))
        rows.append(
            Discrepancy(
                channel_id=channel_id, mapping_id=key[0], channel_warehouse_id=key[1], hub_quantity=row.quantity,
                channel_quantity=channel_quantity, last_pushed=last, last_pushed_at=at, found_at=now,
            )
        )  # fmt: skip
        if dry_run:
            shown = "none" if channel_quantity is None else channel_quantity
            report.say(f"{row.listing.sku}@{row.target.external_id}: hub {row.quantity}, channel {shown}")
    report.created += len(rows)
    if not dry_run:
        with transaction.atomic():
            Discrepancy.objects.filter(channel_id=channel_id).delete()
            Discrepancy.objects.bulk_create(rows, batch_size=1000)
    return rows


def discrepancies_push_again(*, discrepancy_ids: Iterable[int]) -> dict[str, int]:
    """Push the hub's quantity again for the chosen discrepancies, per channel; counts of what happened.

    The ledger takes the channel's reported figure first, so the diff sees the difference (and a relative
    channel gets the delta from what it really shows). Rows whose push the channel accepts leave the report.
    """
    by_channel: dict[int, list[Discrepancy]] = defaultdict(list)
    ids = list(discrepancy_ids)
    for start in range(0, len(ids), 500):  # well under SQLite's bound-parameter limit
        for row in Discrepancy.objects.filter(id__in=ids[start : start + 500]).select_related("channel"):
            by_channel[row.channel_id].append(row)
    totals = {"pushed": 0, "failed": 0, "busy": 0}
    for rows in by_channel.values():
        channel = rows[0].channel
        with cursor_lock(channel=channel, flow=UPLOAD_FLOW) as won:
            if not won:
                totals["busy"] += len(rows)
                continue
            report = _push_again(channel, rows)
        totals["pushed"] += report.created + report.updated
        totals["failed"] += report.failed
    return totals


def _push_again(channel: Channel, rows: list[Discrepancy]) -> RunReport:
    report, started, error = RunReport(flow=UPLOAD_FLOW), timezone.now(), ""
    keys = {(row.mapping_id, row.channel_warehouse_id): row for row in rows}
    with transaction.atomic():
        ledger_write({k: (r.channel_quantity, ()) for k, r in keys.items() if r.channel_quantity is not None})
        _ledger_forget([k for k, r in keys.items() if r.channel_quantity is None])
    connector = connector_for(channel)
    try:
        rules = policy_rules(policy_for(channel_id=channel.pk))
        mapping_ids = {mapping_id for mapping_id, _ in keys}
        inventory_upload_run(
            channel_id=channel.pk,
            rules=rules,
            connector=capability(connector, QuantitySink),
            report=report,
            mapping_ids=mapping_ids,
        )
    except ChannelError as exc:
        error = str(exc)
    finally:
        connector.close()
    side_run_record(channel=channel, report=report, trigger=SyncRun.Trigger.MANUAL, started_at=started, error=error)
    _drop_settled(channel.pk, keys)
    return report


def _ledger_forget(keys: list[tuple[int, int]]) -> None:
    """The channel shows nothing for these: with no ledger row the next push starts from a fresh read."""
    for mapping_id, cw_id in keys:
        PushLedger.objects.filter(mapping_id=mapping_id, channel_warehouse_id=cw_id).delete()


def _drop_settled(channel_id: int, keys: dict) -> None:
    """Remove the report rows whose listing now shows the hub's quantity in the ledger."""
    pushed = ledger_for(channel_id=channel_id)
    settled = [row.pk for key, row in keys.items() if key in pushed and pushed[key][0] == row.hub_quantity]
    for start in range(0, len(settled), 500):
        Discrepancy.objects.filter(id__in=settled[start : start + 500]).delete()
