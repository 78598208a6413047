"""The demo: channels of every kind pointed at the sandbox, one cycle of every registered flow, and a world with
one example of each thing a person must handle (a held order, a failed submission, a failed shipment upload, a
discrepancy, a failed run, a conflicting listing), so every screen has something on it."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

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


# Everything the demo writes; django_q's tables hold its schedules and the task results of the last session.
DEMO_APPS = ("integrations", "catalog", "inventory", "orders", "django_q")
RECONCILE = "inventory.reconcile"
SHIPMENT_FLOWS = ("shipments.download", "shipments.upload")
HELD_ORDER = "DEMO-HELD-1"
SUBMIT_REFUSAL = "Ship-to postal code 99999 is not served by any warehouse."
UPLOAD_REFUSAL = "The tracking number is not valid for the carrier UPS."
RUN_REFUSAL = "This API user may not read orders of sales channel 12."


class DemoRefused(Exception):
    """The database holds more than the demo: resetting it would delete someone's data."""


@dataclass
class DemoOutcome:
    runs: list[SyncRun] = field(default_factory=list)
    staged_failures: list[SyncRun] = field(default_factory=list)  # the failed run shown on purpose

    @property
    def unexpected_failures(self) -> list[SyncRun]:
        staged = {run.pk for run in self.staged_failures}
        return [r for r in self.runs if r.status == SyncRun.Status.FAILED and r.pk not in staged]


def demo_reset() -> None:
    """Empty the demo's tables (users stay), so each start builds the same world on the same database; refused
    when a channel that is not the demo's exists."""
    others = Channel.objects.exclude(slug__in=DEMO_SLUGS.values()).values_list("slug", flat=True)
    if others.exists():
        raise DemoRefused(
            f"this database holds channels the demo did not make ({', '.join(others[:5])}); "
            "run the demo on a database of its own (DATABASE_URL)"
        )
    tables = [
        model._meta.db_table
        for label in DEMO_APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    ]
    statements = connection.ops.sql_flush(no_style(), tables, reset_sequences=True, allow_cascade=True)
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        # PostgreSQL refuses to TRUNCATE tables with deferred foreign-key checks pending in this transaction.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    connection.ops.execute_sql_flush(statements)


def demo_world(*, sandboxes: Sandboxes) -> DemoOutcome:
    """Set up the channels, stage the examples on the sandboxes, and run every flow: the whole demo world."""
    channels = demo_channels_setup(sandboxes=sandboxes)
    _stage_before_cycle(sandboxes)
    outcome = DemoOutcome()
    outcome.runs += demo_cycle(channels=channels, skip=(RECONCILE,))
    _stage_discrepancy(sandboxes)
    outcome.runs += demo_cycle(channels=channels, only=(RECONCILE,))
    if demo_warehouse(sandboxes=sandboxes):  # shipments for the orders just submitted
        outcome.runs += demo_cycle(channels=channels, only=SHIPMENT_FLOWS)
    if demo_correction(sandboxes=sandboxes):  # a tracking number corrected after it reached the channel
        outcome.runs += demo_cycle(channels=channels, only=SHIPMENT_FLOWS)
    failed = _stage_failed_run(sandboxes, channels)
    outcome.runs.append(failed)
    outcome.staged_failures.append(failed)
    return outcome


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
    *,
    channels: Iterable[Channel],
    trigger: str = SyncRun.Trigger.MANUAL,
    only: Iterable[str] = (),
    skip: Iterable[str] = (),
) -> list[SyncRun]:
    """Run every registered flow (or `only` these, never `skip`) once for every enabled channel, in dependency
    order."""
    from integrations.runner import flow_run

    runs = []
    channels = [c for c in channels if c.enabled]
    for flow in flows.registered():
        if (only and flow not in only) or flow in skip:
            continue
        for channel in channels:
            if channel.flow_enabled(flow) and flow in flows.supported(connector_class(channel.kind), channel.role):
                runs.append(flow_run(channel=channel, flow=flow, trigger=trigger))
    return runs


def demo_warehouse(*, sandboxes: Sandboxes) -> int:
    """Play the warehouse in the sandbox OMS: ship every other open order, the first one only in part, so the
    demo has shipments to download and upload. Returns the number of shipments made."""
    oms = sandboxes.api("oms")
    oms.clock = max(oms.clock, timezone.now())  # shipped after the hub submitted (it stamps with the real time)
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


def _stage_before_cycle(sandboxes: Sandboxes) -> None:
    world = sandboxes.world
    oms = sandboxes.api("oms")
    # The OMS stamps submissions and shipments with its own clock: start it now (the hub stamps its submissions
    # now too), after the last order was placed, so nothing is submitted or shipped before it was placed.
    latest = max(order.placed_at for order in world.orders)
    oms.clock = max(oms.clock, latest + timedelta(hours=1), timezone.now())
    # A held order: ChannelAdvisor sells a listing that matches no item.
    unmapped = next(listing.sku for listing in world.listings if listing.expect == "unmapped")
    sandboxes.api("channeladvisor").add_order([(unmapped, 1)], site_order_id=HELD_ORDER)
    # A failed submission: the OMS refuses the third order; its channel gives up at once instead of in 3 days.
    rules = apps.get_model("orders", "OrderRules")
    channel = Channel.objects.get(slug=DEMO_SLUGS["channeladvisor"])
    rules.objects.update_or_create(channel=channel, defaults={"submit_retry_days": 0})
    oms.inject("status", status=422, method="POST", path=r"/orders$", after=2, message=SUBMIT_REFUSAL)
    # A failed shipment upload: Extensiv refuses the first tracking number it is sent.
    sandboxes.api("extensiv").inject(
        "status", status=400, method="PUT", path=r"/shipment/external$", message=UPLOAD_REFUSAL
    )


def _stage_discrepancy(sandboxes: Sandboxes) -> None:
    """Someone edits a quantity on ChannelAdvisor by hand after the push, so the reconciliation finds it."""
    listing = next(listing for listing in sandboxes.world.listings if listing.expect == "sku_pattern")
    ca = sandboxes.api("channeladvisor")
    ca.set_quantity(listing.sku, "MAIN", ca.quantity(listing.sku, "MAIN") + 7)


def _stage_failed_run(sandboxes: Sandboxes, channels: list[Channel]) -> SyncRun:
    """Extensiv refuses one order download; the next scheduled run goes through, as after a permission fix."""
    sandboxes.api("extensiv").inject("status", status=403, method="GET", path=r"/orders$", message=RUN_REFUSAL)
    extensiv = [channel for channel in channels if channel.kind == "extensiv"]
    return demo_cycle(channels=extensiv, only=("orders.download",))[0]
