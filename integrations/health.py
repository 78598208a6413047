"""The health-check flow every connector supports: one cheap authenticated call, on a schedule like any flow,
so a channel whose credentials expired shows up as a failed run before an order flow trips over it."""

from datetime import datetime

from integrations.flows import RunReport
from integrations.models import HEALTH_CHECK_FLOW, Channel
from integrations.services import channel_test_connection

PING = HEALTH_CHECK_FLOW  # on by default: a channel runs it unless a person turns it off
PING_INTERVAL = 15  # minutes


def ping(channel: Channel, *, report: RunReport, since: datetime | None = None, dry_run: bool = False) -> None:
    """Call the channel's cheapest authenticated endpoint; a ChannelError fails the run with its reason."""
    answer = channel_test_connection(channel=channel)
    report.seen += 1
    report.skipped += 1  # read, nothing to change: the counts add up like any flow's
    report.say(f"{channel.slug}: {answer}")
