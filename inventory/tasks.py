"""django-q2 entry points of the inventory app: plain ids in, one service call, a plain summary out."""

from django.utils import timezone

from integrations.connectors import connector_for
from integrations.connectors.capabilities import QuantitySink, capability
from integrations.flows import RunReport
from integrations.http import ChannelError
from integrations.models import Channel, SyncRun
from inventory.pushes import intents_push
from inventory.runs import side_run_record


def inventory_push_chunk(channel_id: int, intent_ids: list[int]) -> dict:
    """Send one chunk of a fanned-out inventory upload (intents already recorded); its counts."""
    channel = Channel.objects.get(pk=channel_id)
    report, started, error = RunReport(flow="inventory.upload"), timezone.now(), ""
    connector = connector_for(channel)
    try:
        intents_push(
            channel_id=channel_id, intent_ids=intent_ids, connector=capability(connector, QuantitySink), report=report
        )
    except ChannelError as exc:
        error = str(exc)
    finally:
        connector.close()
    run = side_run_record(
        channel=channel, report=report, trigger=SyncRun.Trigger.SCHEDULE, started_at=started, error=error
    )
    return {"run": run.pk, "status": run.status, "created": report.created, "updated": report.updated,
            "failed": report.failed, "error": error}  # fmt: skip
