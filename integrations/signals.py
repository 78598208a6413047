"""Channel changes keep django-q2 schedules in step (integrations/schedules.py)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from integrations.models import Channel
from integrations.schedules import schedules_remove_channel, schedules_sync_channel


@receiver(post_save, sender=Channel, dispatch_uid="integrations.channel_schedules_sync")
def channel_saved(sender: type[Channel], instance: Channel, raw: bool = False, **kwargs: object) -> None:
    if raw:  # loaddata: the fixture brings its own schedules, if any
        return
    schedules_sync_channel(instance)


@receiver(post_delete, sender=Channel, dispatch_uid="integrations.channel_schedules_remove")
def channel_deleted(sender: type[Channel], instance: Channel, **kwargs: object) -> None:
    schedules_remove_channel(instance.pk)
