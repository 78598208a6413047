"""The go-live date moves from the order rules to the channel (Channel.go_live_at), where the flows that start
from it are switched on: each rules row's date is copied onto its channel, then the rules' column is dropped, so
there is one date to keep right, not two that can disagree."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def onto_channels(apps, schema_editor):
    Channel = apps.get_model("integrations", "Channel")
    OrderRules = apps.get_model("orders", "OrderRules")
    dated = OrderRules.objects.filter(channel=OuterRef("pk"), earliest_order_date__isnull=False)
    Channel.objects.filter(pk__in=dated.values("channel")).update(
        go_live_at=Subquery(dated.values("earliest_order_date")[:1])
    )


def back_to_rules(apps, schema_editor):
    Channel = apps.get_model("integrations", "Channel")
    OrderRules = apps.get_model("orders", "OrderRules")
    dated = Channel.objects.filter(go_live_at__isnull=False, role="sales")  # order rules are a sales channel's
    existing = set(OrderRules.objects.values_list("channel_id", flat=True))
    OrderRules.objects.bulk_create(
        [OrderRules(channel_id=pk) for pk in dated.exclude(pk__in=existing).values_list("pk", flat=True)]
    )
    OrderRules.objects.filter(channel_id__in=dated.values("pk")).update(
        earliest_order_date=Subquery(Channel.objects.filter(pk=OuterRef("channel")).values("go_live_at")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0009_orderline_attributes"),
        ("integrations", "0006_channel_go_live_at"),
    ]

    operations = [
        migrations.RunPython(onto_channels, back_to_rules),
        migrations.RemoveField(model_name="orderrules", name="earliest_order_date"),
    ]
