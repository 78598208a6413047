"""Two flows moving one order at once, as several workers do on a busy day (found by tests/benchmarks/bench_day.py:
both crashed a run with IllegalTransition before)."""

from types import SimpleNamespace

import pytest
from django.db import transaction

from orders.models import Order, OrderLine, OrderStatus
from orders.shipments import LineState, _orders_progress

pytestmark = pytest.mark.django_db


def test_a_shipment_moves_an_order_acknowledged_since_the_chunk_read_it(submitted):
    channel = submitted("nuorder")
    stale = Order.objects.filter(channel=channel).first()
    assert stale.status == OrderStatus.SUBMITTED
    Order.objects.filter(pk=stale.pk).update(status=OrderStatus.ACKNOWLEDGED)  # the acknowledgement, meanwhile
    lines = {
        line.pk: LineState(line.pk, stale.pk, line.external_id, None, False, line.quantity, line.quantity, 0)
        for line in OrderLine.objects.filter(order=stale)
    }
    with transaction.atomic():
        _orders_progress({stale.pk: stale}, lines, [(SimpleNamespace(external_id="SH-1"), stale, {})])
    assert Order.objects.get(pk=stale.pk).status == OrderStatus.SHIPPED
