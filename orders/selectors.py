"""Reads for the admin: search and the open-issues filter, written so each walks an index at a million orders."""

from collections import defaultdict
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from integrations.models import Channel, SyncIssue
from orders.models import Customer, Order, OrderLine


def open_issue_orders() -> Q:
    """Orders with an open sync issue: on their sales channel (keyed by the channel's order id) or on their
    fulfillment system (keyed `<sales channel slug>/<order id>`, see orders.submission).

    Found from the issues, which are few, rather than by testing every order against the issue table: a
    condition per channel on the (channel, external id) unique index.
    """
    channels = {
        slug: (pk, fulfillment_id)
        for pk, slug, fulfillment_id in Channel.objects.values_list("pk", "slug", "fulfillment_id")
    }
    keys: dict[int, set[str]] = defaultdict(set)
    issues = SyncIssue.objects.filter(status=SyncIssue.Status.OPEN).values_list("channel_id", "record_key")
    for channel_id, key in issues.iterator(chunk_size=2000):
        keys[channel_id].add(key)
        slug, slash, external_id = key.partition("/")
        sales_id, fulfillment_id = channels.get(slug, (None, None))
        if slash and fulfillment_id == channel_id:
            keys[sales_id].add(external_id)
    conditions = (Q(channel_id=channel_id, external_id__in=sorted(ids)) for channel_id, ids in keys.items())
    return reduce(or_, conditions, Q(pk__in=[]))


def orders_search(queryset: QuerySet[Order], term: str) -> QuerySet[Order]:
    """Orders matching any of their numbers (channel, fulfillment, channel id) exactly, a customer (name
    contains, email or id exactly), or an exact SKU on a line (channel SKU or item SKU).

    One id set from three index-driven selects (a UNION), not an OR across tables, which would test every
    order; and sub-selects, not joins, so an order with three matching lines is still one row.
    """
    term = term.strip()
    if not term:
        return queryset
    orders = Order.objects.order_by()  # no ORDER BY inside a UNION (SQLite refuses it)
    numbers = orders.filter(Q(number=term) | Q(fulfillment_number=term) | Q(external_id=term)).values("pk")
    customers = Customer.objects.filter(Q(name__icontains=term) | Q(email__iexact=term) | Q(external_id=term))
    by_customer = orders.filter(customer__in=customers.values("pk")).values("pk")
    by_sku = OrderLine.objects.order_by().filter(Q(channel_sku=term) | Q(item__sku=term)).values("order_id")
    return queryset.filter(pk__in=numbers.union(by_customer, by_sku))
