"""Telling the channel an order is in the fulfillment system: ChannelAdvisor marks it exported, NuORDER
marks it processed and replaces its order number with the fulfillment number, and so on per connector."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from integrations.chunks import rows_in_chunks
from integrations.connectors.capabilities import OrderAcknowledger
from integrations.flows import RunReport
from integrations.http import ChannelError
from integrations.models import Channel
from orders.models import EventKind, Order, OrderStatus
from orders.states import IN_FULFILLMENT, LOCKED, IllegalTransition, order_event, order_transition

FLOW = "orders.acknowledge"
ACK_STATUSES = (OrderStatus.SUBMITTED, OrderStatus.RESUBMITTED)


def orders_to_acknowledge(*, channel: Channel) -> QuerySet[Order]:
    """Orders with a fulfillment number the channel has not been told about yet."""
    statuses = IN_FULFILLMENT | LOCKED
    return (
        Order.objects.filter(channel=channel, status__in=statuses, acknowledged_at__isnull=True)
        .filter(~Q(fulfillment_number=""))
        .order_by("submitted_at", "id")
    )


def orders_acknowledge(
    *, channel: Channel, connector: OrderAcknowledger, report: RunReport, dry_run: bool = False
) -> None:
    """Acknowledge every submitted order on its channel; a refusal goes to the issue queue and is retried."""
    for order in rows_in_chunks(orders_to_acknowledge(channel=channel)):
        report.seen += 1
        if dry_run:
            report.say(f"would acknowledge {order.number} as {order.fulfillment_number}")
            continue
        try:
            connector.order_acknowledge(external_id=order.external_id, fulfillment_number=order.fulfillment_number)
        except ChannelError as exc:
            report.issue(order.external_id, f"order {order.number} could not be acknowledged: {exc}")
            continue
        order_acknowledged(order=order)
        report.updated += 1
        report.succeeded(order.external_id)


def order_acknowledged(*, order: Order) -> None:
    """Record that the channel knows the order's fulfillment number."""
    message = f"Acknowledged on the channel with fulfillment number {order.fulfillment_number}."
    now = timezone.now()
    if order.status in ACK_STATUSES:
        try:
            order_transition(order=order, to=OrderStatus.ACKNOWLEDGED, message=message, fields={"acknowledged_at": now})
            return
        except IllegalTransition:
            # It moved on (shipped, batched) while the channel was being told: the acknowledgement still counts.
            order.refresh_from_db(fields=["status"])
    # Already batched or shipping: the status stays, the acknowledgement is still recorded.
    Order.objects.filter(pk=order.pk).update(acknowledged_at=now, updated_at=now)
    order_event(order=order, kind=EventKind.NOTE, message=message)
