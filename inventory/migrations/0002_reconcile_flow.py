"""One flow, one role: on a sales channel `inventory.download` was the reconciliation (ChannelAdvisor declared it
"for reconciliation"); it is now `inventory.reconcile` there, and `inventory.download` is only the fulfillment
system's stock. This moves what named the old flow on sales channels: the channel's flow settings (kept enabled
at the interval it ran at, the shorter when both ran), its schedule, its cursor, its runs and its issues."""

from django.db import migrations

OLD, NEW = "inventory.download", "inventory.reconcile"
OLD_DEFAULT, NEW_DEFAULT = 30, 1440  # minutes, each flow's default interval when the rename was made


def _interval(entry: dict, default: int) -> int:
    return int(entry.get("interval") or default)


def _merged(old: dict, new: dict | None) -> dict:
    """The reconcile entry after the rename: it runs when either ran, as often as the more frequent one did."""
    if new is None or not new.get("enabled"):
        return {**old, "interval": _interval(old, OLD_DEFAULT)} if old.get("enabled") else (new or old)
    if not old.get("enabled"):
        return new
    return {**new, "interval": min(_interval(old, OLD_DEFAULT), _interval(new, NEW_DEFAULT))}


def rename(apps, schema_editor):
    Channel = apps.get_model("integrations", "Channel")
    for channel in Channel.objects.filter(role="sales"):
        _rename_channel(apps, channel)


def _rename_channel(apps, channel) -> None:
    SyncCursor = apps.get_model("integrations", "SyncCursor")
    SyncRun = apps.get_model("integrations", "SyncRun")
    SyncIssue = apps.get_model("integrations", "SyncIssue")
    settings = dict(channel.flow_settings or {})
    if OLD in settings:
        settings[NEW] = _merged(settings.pop(OLD), settings.get(NEW))
        channel.flow_settings = settings
        channel.save(update_fields=["flow_settings"])
    if SyncCursor.objects.filter(channel=channel, flow=NEW).exists():
        SyncCursor.objects.filter(channel=channel, flow=OLD).delete()
    else:
        SyncCursor.objects.filter(channel=channel, flow=OLD).update(flow=NEW)
    SyncRun.objects.filter(channel=channel, flow=OLD).update(flow=NEW)
    open_keys = SyncIssue.objects.filter(channel=channel, flow=NEW, status="open").values_list("record_key")
    SyncIssue.objects.filter(channel=channel, flow=OLD, status="open", record_key__in=open_keys).delete()
    SyncIssue.objects.filter(channel=channel, flow=OLD).update(flow=NEW)
    _rename_schedule(apps, channel, settings.get(NEW))


def _rename_schedule(apps, channel, entry: dict | None) -> None:
    """Its schedule keeps its name pattern (switchyard:<slug>:<flow>) and args; sync_schedules would do the same."""
    Schedule = apps.get_model("django_q", "Schedule")
    old = Schedule.objects.filter(func="integrations.tasks.run_flow", args=repr((channel.pk, OLD)))
    if not old.exists():
        return
    new = Schedule.objects.filter(func="integrations.tasks.run_flow", args=repr((channel.pk, NEW)))
    minutes = _interval(entry or {}, NEW_DEFAULT)
    if new.exists():
        old.delete()
        new.update(minutes=minutes)
    else:
        old.update(name=f"switchyard:{channel.slug}:{NEW}", args=repr((channel.pk, NEW)), minutes=minutes)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0001_initial"),
        ("integrations", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(rename, migrations.RunPython.noop)]
