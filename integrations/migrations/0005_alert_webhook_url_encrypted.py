"""The alert webhook URL moves from a plain column into the channel's encrypted credentials (a Slack-style URL is
a secret): each stored URL is copied in, then the column is dropped."""

from django.db import migrations

from integrations.fields import is_undecryptable

KEY = "alert_webhook_url"


def into_credentials(apps, schema_editor):
    Channel = apps.get_model("integrations", "Channel")
    for channel in Channel.objects.exclude(alert_webhook_url="").only("pk", "credentials", "alert_webhook_url"):
        if is_undecryptable(channel.credentials):
            # Merging would overwrite ciphertext no configured key opens; the URL must be entered again.
            print(f"\n  Channel {channel.pk}: credentials cannot be decrypted, its alert webhook URL is dropped.")
            continue
        channel.credentials = {**channel.credentials, KEY: channel.alert_webhook_url}
        channel.save(update_fields=["credentials"])


def out_of_credentials(apps, schema_editor):
    Channel = apps.get_model("integrations", "Channel")
    for channel in Channel.objects.only("pk", "credentials"):
        if KEY in channel.credentials:
            url = channel.credentials[KEY]
            channel.credentials = {name: value for name, value in channel.credentials.items() if name != KEY}
            channel.alert_webhook_url = url[:500]
            channel.save(update_fields=["credentials", "alert_webhook_url"])


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0004_channel_credentials_permission"),
    ]

    operations = [
        migrations.RunPython(into_credentials, out_of_credentials),
        migrations.RemoveField(model_name="channel", name="alert_webhook_url"),
    ]
