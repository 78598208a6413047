"""django-q2 entry points of the orders app: plain ids in, one service call, a plain summary out."""

from django.utils import timezone

from integrations.connectors import connector_for
from integrations.connectors.capabilities import FulfillmentTarget, capability
from integrations.flows import RunReport
from integrations.http import ChannelError
from integrations.models import Channel, SyncRun
from inventory.runs import side_run_record
from orders.submission import orders_submit_ids


def orders_submit_chunk(channel_id: int, order_ids: list[int], queued: str) -> dict:
    """Submit one chunk of a fanned-out submission (the orders of sales channel `channel_id`, claimed for this
    chunk as `queued`); recorded as an orders.submit run of the fulfillment channel. Its counts."""
    sales = Channel.objects.select_related("fulfillment").get(pk=channel_id)
    fulfillment = sales.fulfillment
    if fulfillment is None:
        raise ValueError(f"{sales} has no fulfillment channel")
    report, started, error = RunReport(flow="orders.submit"), timezone.now(), ""
    connector = connector_for(fulfillment)
    try:
        target = capability(connector, FulfillmentTarget)
        orders_submit_ids(channel=sales, connector=target, order_ids=order_ids, report=report, queued=queued)
    except ChannelError as exc:
        error = str(exc)
    finally:
        connector.close()
    run = side_run_record(
        channel=fulfillment, report=report, trigger=SyncRun.Trigger.SCHEDULE, started_at=started, error=error
    )
    return {"run": run.pk, "status": run.status, "created": report.created, "skipped": report.skipped,
            "failed": report.failed, "error": error}  # fmt: skip
