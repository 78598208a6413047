import pytest
from django_q.models import Schedule

from integrations.health import PING
from integrations.models import Channel
from integrations.schedules import schedules_sync_all, schedules_sync_channel
from integrations.tasks import RUN_FLOW
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def channel_without_health_check(**kwargs) -> Channel:
    """The health check is on by default; these tests follow the flows they switch on themselves."""
    return ChannelFactory(flow_settings={PING: {"enabled": False}}, **kwargs)


def test_the_health_check_is_scheduled_by_default():
    channel = ChannelFactory(slug="fresh")
    schedule = Schedule.objects.get()
    assert (schedule.name, schedule.args, schedule.minutes) == (
        "switchyard:fresh:integrations.ping",
        f"({channel.pk}, '{PING}')",
        15,
    )


def test_turning_the_health_check_off_removes_its_schedule():
    channel = ChannelFactory()
    channel.set_flow(PING, enabled=False)
    channel.save()
    assert not Schedule.objects.exists()


def enable(channel: Channel, flow: str, interval: int | None = None, *, enabled: bool = True) -> Channel:
    channel.set_flow(flow, enabled=enabled, interval=interval)
    channel.save()
    return channel


def test_enabling_a_flow_creates_its_schedule():
    channel = enable(channel_without_health_check(slug="acme"), "orders.download")
    schedule = Schedule.objects.get()
    assert schedule.name == "switchyard:acme:orders.download"
    assert (schedule.func, schedule.args) == (RUN_FLOW, f"({channel.pk}, 'orders.download')")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 10, -1)


def test_the_channel_interval_overrides_the_default():
    enable(channel_without_health_check(), "inventory.upload", 15)
    assert Schedule.objects.get().minutes == 15


def test_changing_the_interval_retimes_the_schedule_in_place():
    channel = enable(channel_without_health_check(), "orders.download", 30)
    first = Schedule.objects.get()
    enable(channel, "orders.download", 5)
    retimed = Schedule.objects.get()
    assert (retimed.pk, retimed.minutes) == (first.pk, 5)


def test_saving_unchanged_keeps_the_schedule_and_its_next_run():
    channel = enable(channel_without_health_check(), "orders.download")
    before = Schedule.objects.get()
    channel.save()
    after = Schedule.objects.get()
    assert (after.pk, after.next_run) == (before.pk, before.next_run)


def test_disabling_a_flow_removes_its_schedule_only():
    channel = enable(enable(channel_without_health_check(slug="acme"), "orders.download"), "shipments.upload")
    enable(channel, "orders.download", enabled=False)
    assert list(Schedule.objects.values_list("name", flat=True)) == ["switchyard:acme:shipments.upload"]


def test_disabling_the_channel_removes_all_its_schedules():
    channel = enable(enable(channel_without_health_check(), "orders.download"), "shipments.upload")
    channel.enabled = False
    channel.save()
    assert not Schedule.objects.exists()


def test_deleting_the_channel_removes_its_schedules_and_no_others():
    doomed = enable(channel_without_health_check(), "orders.download")
    enable(channel_without_health_check(slug="kept"), "orders.download")
    doomed.delete()
    assert list(Schedule.objects.values_list("name", flat=True)) == ["switchyard:kept:orders.download"]


def test_renaming_the_slug_renames_the_schedule():
    channel = enable(channel_without_health_check(slug="old"), "orders.download")
    channel.slug = "new"
    channel.save()
    assert list(Schedule.objects.values_list("name", flat=True)) == ["switchyard:new:orders.download"]


def test_sync_all_catches_up_with_changes_made_without_signals():
    kept = channel_without_health_check(slug="kept")
    gone = enable(channel_without_health_check(slug="gone"), "orders.download")
    Channel.objects.filter(pk=kept.pk).update(
        flow_settings={"orders.download": {"enabled": True, "interval": 7}, PING: {"enabled": False}}
    )
    Channel.objects.filter(pk=gone.pk).update(enabled=False)
    changes = schedules_sync_all()
    assert (changes.created, changes.updated, changes.deleted) == (1, 0, 1)
    assert list(Schedule.objects.values_list("name", "minutes")) == [("switchyard:kept:orders.download", 7)]


def test_sync_all_removes_schedules_of_channels_that_no_longer_exist():
    Schedule.objects.create(name="switchyard:ghost:orders.download", func=RUN_FLOW, args="(999999, 'orders.download')")
    Schedule.objects.create(name="someone-elses", func="catalog.tasks.cleanup")
    assert schedules_sync_all().deleted == 1
    assert list(Schedule.objects.values_list("name", flat=True)) == ["someone-elses"]


def test_sync_channel_reports_nothing_to_do_when_in_step():
    channel = enable(channel_without_health_check(), "orders.download")
    changes = schedules_sync_channel(channel)
    assert (changes.created, changes.updated, changes.deleted) == (0, 0, 0)
