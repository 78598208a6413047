"""The demo: channels of every kind pointed at the sandbox, and one cycle of every registered flow."""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction

from integrations import flows
from integrations.connectors import connector_class
from integrations.models import Channel, ChannelRole, SyncRun
from integrations.sandbox.registry import SANDBOX_CLASSES, Sandboxes

DEMO_SLUGS = {kind: f"{kind}-demo" for kind in SANDBOX_CLASSES}
DEMO_CONTACT = "ops@example.com"
DEMO_USERNAME = "admin"


def demo_login_ensure(*, username: str, password: str) -> bool:
    """Create the demo's superuser with this password; True when created. An existing user is left exactly as it
    is: the demo never resets a password (or a role) someone set."""
    users = get_user_model().objects
    if users.filter(username=username).exists():
        return False
    users.create_superuser(username=username, email="", password=password)
    return True


@transaction.atomic
def demo_channels_setup(*, sandboxes: Sandboxes) -> list[Channel]:
    """Create or update one channel per sandbox (idempotent); every registered flow they support is enabled."""
    channels = []
    fulfillment = None
    for kind in sorted(SANDBOX_CLASSES, key=lambda k: k != "oms"):  # the fulfillment system first
        values = sandboxes.channel_values(kind, slug=DEMO_SLUGS[kind])
        slug = values.pop("slug")
        channel = Channel.objects.filter(slug=slug).first() or Channel(slug=slug)
        for name, value in values.items():
            setattr(channel, name, value)
        if channel.role == ChannelRole.SALES:
            channel.fulfillment = fulfillment
        for flow in flows.supported(connector_class(kind), channel.role):
            channel.set_flow(flow, enabled=True)
        channel.enabled = True
        channel.contacts = channel.contacts or DEMO_CONTACT  # alert digests print on the console (EMAIL_URL)
        channel.save()
        if channel.role == ChannelRole.FULFILLMENT:
            fulfillment = channel
        channels.append(channel)
    return channels


def demo_cycle(
    *, channels: Iterable[Channel], trigger: str = SyncRun.Trigger.MANUAL, only: Iterable[str] = ()
) -> list[SyncRun]:
    """Run every registered flow (or `only` these) once for every enabled channel, in dependency order."""
    from integrations.runner import flow_run

    runs = []
    channels = [c for c in channels if c.enabled]
    for flow in flows.registered():
        if only and flow not in only:
            continue
        for channel in channels:
            if channel.flow_enabled(flow) and flow in flows.supported(connector_class(channel.kind), channel.role):
                runs.append(flow_run(channel=channel, flow=flow, trigger=trigger))
    return runs


def demo_warehouse(*, sandboxes: Sandboxes) -> int:
    """Play the warehouse in the sandbox OMS: ship every other open order, the first one only in part, so the
    demo has shipments to download and upload. Returns the number of shipments made."""
    oms = sandboxes.api("oms")
    open_orders = sorted(number for number, order in oms.orders.items() if order["status"] == "open")
    shipped = 0
    for i, number in enumerate(open_orders[::2]):
        first_line = oms.orders[number]["lines"][0]
        partial = i == 0 and first_line["quantity"] > 1
        oms.ship(number, {first_line["line_ref"]: 1} if partial else None)
        shipped += 1
    return shipped


def demo_correction(*, sandboxes: Sandboxes) -> bool:
    """Play the warehouse correcting the tracking number of a shipment ChannelAdvisor already has, so the demo
    shows a correction reaching the channel. False when there is no such shipment."""
    oms = sandboxes.api("oms")
    for shipment in oms.shipments.values():
        if oms.orders[shipment["order_number"]].get("channel") == DEMO_SLUGS["channeladvisor"]:
            oms.set_tracking(shipment["id"], f"{shipment['tracking_number']}-CORRECTED")
            return True
    return False
