"""Orders the hub has downloaded that the fulfillment system's stock, as last downloaded, does not reflect yet.

"Pending" is the open quantity (ordered - shipped - cancelled) of order lines that are not bundle headers
(bundle lines are stored split into component lines, so a pending bundle counts against its components), in
orders that are either
- not in the fulfillment system yet: downloaded, held, or failed (waiting to be resubmitted); or
- in the fulfillment system (submitted, acknowledged, resubmitted) but submitted after the last stock download
  began, so that snapshot's `allocated`/`available` cannot include them yet. Once a later stock download has
  run, the fulfillment system's own allocation counts them and the hub stops subtracting them (no double count).
Subtracting them closes the overselling window between two stock snapshots.

Per DESIGN, inventory does not import the orders app (both depend on catalog, neither on the other): the model is
looked up lazily by name, and without an orders app nothing is pending.
"""

from collections.abc import Iterable
from datetime import datetime

from django.apps import apps
from django.db.models import F, Q, Sum

from integrations.models import SyncRun

NOT_SUBMITTED = ("downloaded", "held", "failed")
IN_FULFILLMENT = ("submitted", "acknowledged", "resubmitted")
STOCK_FLOW = "inventory.download"


def last_stock_snapshot() -> datetime | None:
    """When the last stock download that finished (ok or partial) began; its figures are at least that fresh."""
    runs = SyncRun.objects.filter(
        flow=STOCK_FLOW, dry_run=False, status__in=[SyncRun.Status.OK, SyncRun.Status.PARTIAL]
    )
    return runs.order_by("-started_at").values_list("started_at", flat=True).first()


def pending_quantities(*, item_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Pending quantity per item id (all, or these), over every sales channel (they sell the same stock)."""
    try:
        order_line = apps.get_model("orders", "OrderLine")
    except LookupError:
        return {}
    snapshot = last_stock_snapshot()
    in_fulfillment = Q(order__status__in=IN_FULFILLMENT)
    if snapshot is not None:
        in_fulfillment &= Q(order__submitted_at__gt=snapshot)
    lines = order_line.objects.filter(Q(order__status__in=NOT_SUBMITTED) | in_fulfillment)
    if item_ids is not None:
        lines = lines.filter(item_id__in=item_ids)
    rows = (
        lines.filter(item__isnull=False, is_bundle=False)
        .order_by()
        .values_list("item_id")
        .annotate(total=Sum(F("quantity") - F("quantity_shipped") - F("quantity_cancelled")))
    )
    return {item_id: int(total) for item_id, total in rows if total and total > 0}
