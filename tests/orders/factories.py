"""factory-boy factories for the orders models, and in-memory channel records (`OrderRecordFactory`)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from integrations.connectors import records
from orders.models import (
    Customer,
    DownloadRequest,
    EventKind,
    HookNonce,
    Order,
    OrderEvent,
    OrderLine,
    OrderRules,
    OrderStatus,
    Shipment,
    ShipmentLine,
    ShipmentUpload,
)
from tests.factories import ChannelFactory, ItemFactory

PLACED = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
ADDRESS = {
    "name": "Ann Lee",
    "company": "",
    "line1": "1 Main St",
    "line2": "",
    "city": "Durham",
    "state": "NC",
    "postal_code": "27701",
    "country": "US",
    "phone": "",
    "email": "",
}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.LazyFunction(lambda: make_password(None))  # unusable (tests force_login); no hashing cost
    is_staff = True


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    channel = factory.SubFactory(ChannelFactory)
    external_id = factory.Sequence(lambda n: f"C-{n}")
    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.LazyAttribute(lambda o: f"{o.external_id.lower()}@example.com")
    shipping_address = factory.LazyFunction(lambda: dict(ADDRESS))
    billing_address = factory.LazyFunction(lambda: dict(ADDRESS))


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    channel = factory.SubFactory(ChannelFactory)
    external_id = factory.Sequence(lambda n: f"{100000 + n}")
    number = factory.Sequence(lambda n: f"SO-{5000 + n}")
    status = OrderStatus.DOWNLOADED
    placed_at = factory.Sequence(lambda n: PLACED + timedelta(minutes=n))
    customer = factory.SubFactory(CustomerFactory, channel=factory.SelfAttribute("..channel"))
    ship_to = factory.LazyFunction(lambda: dict(ADDRESS))
    bill_to = factory.LazyFunction(lambda: dict(ADDRESS))
    shipping_method = "UPS Ground"
    total = Decimal("40.00")
    raw = factory.LazyAttribute(lambda o: {"id": o.external_id})

    class Params:
        held = factory.Trait(status=OrderStatus.HELD, hold_reason="unmapped_sku", hold_detail="SKU X has no mapping.")
        submitted = factory.Trait(
            status=OrderStatus.SUBMITTED, fulfillment_number=factory.Sequence(lambda n: f"SO-{100001 + n}")
        )


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    external_id = factory.Sequence(lambda n: f"L{n}")
    item = factory.SubFactory(ItemFactory)
    channel_sku = factory.LazyAttribute(lambda o: o.item.sku if o.item else "SKU")
    quantity = 2
    unit_price = Decimal("20.00")


class OrderEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderEvent

    order = factory.SubFactory(OrderFactory)
    kind = EventKind.NOTE
    message = "Something happened."


class OrderRulesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderRules
        django_get_or_create = ("channel",)

    channel = factory.SubFactory(ChannelFactory)


class DownloadRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DownloadRequest
        django_get_or_create = ("channel",)

    channel = factory.SubFactory(ChannelFactory)


class HookNonceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HookNonce

    channel = factory.SubFactory(ChannelFactory)
    signature = factory.Sequence(lambda n: f"{n:064x}")


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    order = factory.SubFactory(OrderFactory, submitted=True)
    channel = factory.SelfAttribute("order.channel")
    external_id = factory.Sequence(lambda n: f"SH-{n}")
    tracking_number = factory.Sequence(lambda n: f"1Z{n:016d}")
    carrier = "UPS"
    service = "Ground"
    shipped_at = PLACED


class ShipmentLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShipmentLine

    shipment = factory.SubFactory(ShipmentFactory)
    order_line = factory.SubFactory(OrderLineFactory, order=factory.SelfAttribute("..shipment.order"))
    quantity = 1


class ShipmentUploadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShipmentUpload

    shipment = factory.SubFactory(ShipmentFactory)
    channel = factory.SelfAttribute("shipment.channel")


def address(**changes: str) -> records.Address:
    return records.Address(**{**ADDRESS, **changes})


def line_record(
    external_id: str, sku: str, quantity: int = 1, price: str = "10.00", **fields
) -> records.OrderLineRecord:
    return records.OrderLineRecord(
        external_id=external_id, sku=sku, quantity=quantity, unit_price=Decimal(price), **fields
    )


def order_record(external_id: str = "1001", *lines: records.OrderLineRecord, **fields) -> records.OrderRecord:
    """A channel order as a connector returns it; lines default to one line of SKU `SKU-1`."""
    values = {
        "number": f"N{external_id}",
        "status": "approved",
        "placed_at": PLACED,
        "updated_at": PLACED + timedelta(minutes=5),
        "total": Decimal("10.00"),
        "ship_to": address(),
        "bill_to": address(),
        "shipping_method": "UPS Ground",
        "customer": records.CustomerRef(external_id="C-1", name="Customer 1", email="c1@example.com"),
        "raw": {"id": external_id},
    }
    values.update(fields)
    return records.OrderRecord(external_id=external_id, lines=lines or (line_record("1", "SKU-1"),), **values)
