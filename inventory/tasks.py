"""django-q2 entry points of the inventory app: plain ids in, one service call, a plain summary out."""

from integrations.connectors.capabilities import QuantitySink, capability
from integrations.models import Channel
from inventory.pushes import intents_push
from inventory.runs import chunk_run


def inventory_push_chunk(channel_id: int, intent_ids: list[int]) -> dict:
    """Send one chunk of a fanned-out inventory upload (intents already recorded); its counts."""
    return chunk_run(
        channel=Channel.objects.get(pk=channel_id),
        flow="inventory.upload",
        work=lambda connector, report: intents_push(
            channel_id=channel_id, intent_ids=intent_ids, connector=capability(connector, QuantitySink), report=report
        ),
    )
