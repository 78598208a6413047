"""Reads for the admin and the flows: search, open issues."""

from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Concat

from integrations.models import SyncIssue
from orders.models import Customer, Order, OrderLine


def open_issues_exist() -> Q:
    """True for an order with an open sync issue: on its sales channel (keyed by the channel's order id), or
    on its fulfillment system (keyed `<sales channel slug>/<order id>`, see orders.submission)."""
    issues = SyncIssue.objects.filter(status=SyncIssue.Status.OPEN)
    own = issues.filter(channel_id=OuterRef("channel_id"), record_key=OuterRef("external_id"))
    fulfillment = issues.filter(
        channel_id=OuterRef("channel__fulfillment_id"),
        record_key=Concat(OuterRef("channel__slug"), Value("/"), OuterRef("external_id")),
    )
    return Q(Exists(own)) | Q(Exists(fulfillment))


def orders_search(queryset: QuerySet[Order], term: str) -> QuerySet[Order]:
    """Orders matching any of their numbers (channel, fulfillment, channel id) exactly, a customer (name
    contains, email or id exactly), or an exact SKU on a line (channel SKU or item SKU).

    Sub-selects, not joins: an order with three matching lines is still one row.
    """
    term = term.strip()
    if not term:
        return queryset
    customers = Customer.objects.filter(Q(name__icontains=term) | Q(email__iexact=term) | Q(external_id=term))
    lines = OrderLine.objects.filter(Q(channel_sku=term) | Q(item__sku=term))
    return queryset.filter(
        Q(number=term)
        | Q(fulfillment_number=term)
        | Q(external_id=term)
        | Q(customer__in=customers.values("pk"))
        | Q(pk__in=lines.values("order_id"))
    )
