"""factory-boy factories for the inventory models."""

import factory

from inventory.models import (
    ChannelWarehouse,
    IncomingSupply,
    InventoryPolicy,
    StockLevel,
    Warehouse,
    WarehousePairing,
)
from tests.factories import ChannelFactory, ItemFactory


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"WH{n}")
    name = factory.LazyAttribute(lambda o: f"Warehouse {o.code}")


class StockLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockLevel

    item = factory.SubFactory(ItemFactory)
    warehouse = factory.SubFactory(WarehouseFactory)
    on_hand = 10
    allocated = 0
    available = factory.LazyAttribute(lambda o: max(o.on_hand - o.allocated, 0))


class IncomingSupplyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncomingSupply

    item = factory.SubFactory(ItemFactory)
    warehouse = factory.SubFactory(WarehouseFactory)
    quantity = 20
    purchase_order = factory.Sequence(lambda n: f"PO-{n}")


class ChannelWarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelWarehouse

    channel = factory.SubFactory(ChannelFactory)
    external_id = factory.Sequence(lambda n: str(n + 1))
    name = factory.LazyAttribute(lambda o: f"DC {o.external_id}")
    code = ""


class WarehousePairingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WarehousePairing

    channel_warehouse = factory.SubFactory(ChannelWarehouseFactory)
    warehouse = factory.SubFactory(WarehouseFactory)


class InventoryPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InventoryPolicy
        django_get_or_create = ("channel",)

    channel = factory.SubFactory(ChannelFactory)
