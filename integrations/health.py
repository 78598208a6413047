"""The health-check flow every connector supports: one cheap authenticated call, on a schedule like any flow,
so a channel whose credentials expired shows up as a failed run before an order flow trips over it."""

from datetime import datetime

from integrations.flows import RunReport
from integrations.models import Channel
from integrations.services import channel_test_connection

PING = "integrations.ping"
PING_INTERVAL = 15  # minutes


def ping(channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False) -> None:
    """Call the channel's cheapest authenticated endpoint; a ChannelError fails the run with its reason."""
    answer = channel_test_connection(channel=channel)
    report.seen += 1
    report.say(f"{channel.slug}: {answer}")
