"""django-q2 entry points: plain ids in, one service call, a plain summary out."""

from integrations.models import Channel, SyncRun
from integrations.queue import RUN_FLOW, queue_flow
from integrations.runner import COUNTS, flow_run

__all__ = ["RUN_FLOW", "queue_flow", "run_flow"]


def run_flow(channel_id: int, flow: str, trigger: str = SyncRun.Trigger.SCHEDULE) -> dict:
    """Run one flow on one channel (what every sync schedule calls); the run's summary for the task result."""
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:  # deleted after this task was queued; its schedules went with it
        return {"run": None, "status": SyncRun.Status.SKIPPED, "error": f"channel {channel_id} no longer exists"}
    run = flow_run(channel=channel, flow=flow, trigger=trigger)
    return {
        "run": run.pk,
        "status": run.status,
        **{name: getattr(run, name) for name in COUNTS},
        "error": run.error,
    }
