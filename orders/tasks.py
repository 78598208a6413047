"""django-q2 entry points of the orders app: plain ids in, one service call, a plain summary out."""

from integrations.connectors.capabilities import FulfillmentTarget, capability
from integrations.models import Channel
from inventory.runs import chunk_run
from orders.submission import orders_submit_ids


def orders_submit_chunk(channel_id: int, order_ids: list[int], queued: str) -> dict:
    """Submit one chunk of a fanned-out submission (the orders of sales channel `channel_id`, claimed for this
    chunk as `queued`); recorded as an orders.submit run of the fulfillment channel. Its counts."""
    sales = Channel.objects.select_related("fulfillment").get(pk=channel_id)
    if sales.fulfillment is None:
        raise ValueError(f"{sales} has no fulfillment channel")
    return chunk_run(
        channel=sales.fulfillment,
        flow="orders.submit",
        work=lambda connector, report: orders_submit_ids(
            channel=sales,
            connector=capability(connector, FulfillmentTarget),
            order_ids=order_ids,
            report=report,
            queued=queued,
        ),
    )
