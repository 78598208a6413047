"""factory-boy factories for the inventory models."""

from datetime import UTC, datetime

import factory

from integrations.models import ImportStatus
from inventory.models import (
    ChannelWarehouse,
    Discrepancy,
    IncomingSupply,
    InventoryImport,
    InventoryImportKind,
    InventoryPolicy,
    PushIntent,
    PushLedger,
    StockLevel,
    Warehouse,
    WarehousePairing,
)
from tests.factories import ChannelFactory, ItemFactory, ItemMappingFactory


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


class PushLedgerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PushLedger

    channel_warehouse = factory.SubFactory(ChannelWarehouseFactory)
    mapping = factory.SubFactory(ItemMappingFactory, channel=factory.SelfAttribute("..channel_warehouse.channel"))
    quantity = 10
    accepted_at = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


class PushIntentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PushIntent

    channel_warehouse = factory.SubFactory(ChannelWarehouseFactory)
    mapping = factory.SubFactory(ItemMappingFactory, channel=factory.SelfAttribute("..channel_warehouse.channel"))
    mode = InventoryPolicy.PushMode.ABSOLUTE
    quantity = 10


class DiscrepancyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Discrepancy

    channel_warehouse = factory.SubFactory(ChannelWarehouseFactory)
    channel = factory.SelfAttribute("channel_warehouse.channel")
    mapping = factory.SubFactory(ItemMappingFactory, channel=factory.SelfAttribute("..channel_warehouse.channel"))
    hub_quantity = 10
    channel_quantity = 7


class InventoryImportFactory(factory.django.DjangoModelFactory):
    """A stock-level import job checked and waiting for its owner's confirmation; no stored file."""

    class Meta:
        model = InventoryImport

    owner = factory.SubFactory("tests.orders.factories.UserFactory")
    kind = InventoryImportKind.STOCK
    status = ImportStatus.READY
    file_name = "stock.csv"
    file_format = "csv"
