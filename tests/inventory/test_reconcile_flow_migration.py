"""Migration 0002_reconcile_flow: a sales channel's old `inventory.download` (the reconciliation) becomes
`inventory.reconcile`, with its settings, schedule, cursor, runs and issues."""

from importlib import import_module

from django.apps import apps
from django_q.models import Schedule

from integrations.models import Channel, SyncCursor, SyncIssue, SyncRun
from integrations.schedules import schedule_name
from tests.factories import ChannelFactory, FulfillmentChannelFactory

migration = import_module("inventory.migrations.0002_reconcile_flow")
OLD, NEW = "inventory.download", "inventory.reconcile"


def old_style_channel(**flow_settings) -> Channel:
    channel = ChannelFactory(flow_settings=flow_settings)  # saving it creates its schedules (signals)
    SyncCursor.objects.create(channel=channel, flow=OLD)
    SyncRun.objects.create(channel=channel, flow=OLD, status=SyncRun.Status.OK)
    SyncIssue.objects.create(channel=channel, flow=OLD, record_key="SKU-1@DC1", message="differs")
    return channel


def test_the_old_flow_becomes_the_reconciliation_at_the_interval_it_ran_at(db):
    channel = old_style_channel(**{OLD: {"enabled": True}})
    assert Schedule.objects.filter(name=schedule_name(channel, OLD)).exists()

    migration.rename(apps, None)

    channel.refresh_from_db()
    assert channel.flow_settings == {NEW: {"enabled": True, "interval": 30}}
    schedule = Schedule.objects.get(args=repr((channel.pk, NEW)))
    assert (schedule.name, schedule.minutes) == (schedule_name(channel, NEW), 30)
    assert not Schedule.objects.filter(args=repr((channel.pk, OLD))).exists()
    for model in (SyncCursor, SyncRun, SyncIssue):
        assert list(model.objects.filter(channel=channel).values_list("flow", flat=True)) == [NEW]


def test_when_both_ran_the_more_frequent_interval_is_kept_and_one_schedule_remains(db):
    channel = old_style_channel(**{OLD: {"enabled": True, "interval": 45}, NEW: {"enabled": True}})
    SyncCursor.objects.create(channel=channel, flow=NEW)
    SyncIssue.objects.create(channel=channel, flow=NEW, record_key="SKU-1@DC1", message="differs")

    migration.rename(apps, None)

    channel.refresh_from_db()
    assert channel.flow_settings == {NEW: {"enabled": True, "interval": 45}}
    inventory = Schedule.objects.filter(args__startswith=f"({channel.pk}, ").exclude(args__contains="integrations.ping")
    assert list(inventory.values_list("minutes", flat=True)) == [45]  # the health check has its own, on by default
    assert SyncCursor.objects.filter(channel=channel).count() == 1
    assert SyncIssue.objects.filter(channel=channel, status="open").count() == 1


def test_the_fulfillment_systems_stock_download_keeps_its_name(db):
    oms = FulfillmentChannelFactory(flow_settings={OLD: {"enabled": True}})
    SyncRun.objects.create(channel=oms, flow=OLD, status=SyncRun.Status.OK)

    migration.rename(apps, None)

    oms.refresh_from_db()
    assert oms.flow_settings == {OLD: {"enabled": True}}
    assert SyncRun.objects.get(channel=oms).flow == OLD
