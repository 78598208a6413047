"""Queueing a flow run for any cluster worker. Apart from tasks.py (which runs it) so that what queues a run
(the issue queue's retry, the admin, order hooks) does not import the runner: runner → services → queue, and
tasks → runner, without a circle."""

from django_q.tasks import async_task

from integrations.models import Channel, SyncRun

RUN_FLOW = "integrations.tasks.run_flow"  # what every sync schedule and queued run calls, by its dotted path


def queue_flow(*, channel: Channel, flow: str, trigger: str = SyncRun.Trigger.MANUAL) -> str:
    """Queue a run of the flow for any cluster worker; the django-q2 task id."""
    return async_task(RUN_FLOW, channel.pk, flow, trigger, task_name=f"{channel.slug} {flow}", group=flow)
