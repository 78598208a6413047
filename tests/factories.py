"""factory-boy factories for every model; `.build()` where no database is needed."""

from datetime import UTC, datetime
from decimal import Decimal

import factory

from catalog.models import (
    BundleComponent,
    ChannelUpload,
    ImportStatus,
    Item,
    ItemMapping,
    MappingImport,
    MappingStatus,
    UploadKind,
)
from integrations.models import Channel, ChannelKind, ChannelRole, SyncCursor, SyncIssue, SyncRun


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Channel {n}")
    slug = factory.Sequence(lambda n: f"channel-{n}")
    kind = ChannelKind.CHANNELADVISOR
    role = ChannelRole.SALES
    base_url = "http://127.0.0.1:9/"
    # Set up as a channel in use is: with a go-live date (before any order a test makes), so the flows that
    # start from it can be switched on and run. Tests of a channel without one pass go_live_at=None.
    go_live_at = datetime(2000, 1, 1, tzinfo=UTC)


class FulfillmentChannelFactory(ChannelFactory):
    name = factory.Sequence(lambda n: f"OMS {n}")
    slug = factory.Sequence(lambda n: f"oms-{n}")
    kind = ChannelKind.OMS
    role = ChannelRole.FULFILLMENT
    go_live_at = None  # no flow of a fulfillment system needs one


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    item_number = factory.Sequence(lambda n: f"{n:04d}A")
    color_code = "RED"
    prepack_run = "X"
    size = "5"
    sku = factory.LazyAttribute(
        lambda o: "-".join(p for p in (o.item_number, o.color_code, o.prepack_run, o.size) if p)
    )
    upc = factory.Sequence(lambda n: f"{100000000000 + n:012d}")
    description = factory.LazyAttribute(lambda o: f"Item {o.sku}")
    wholesale_price = Decimal("12.50")
    retail_price = Decimal("25.00")
    active = True


class BundleComponentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BundleComponent

    bundle = factory.SubFactory(ItemFactory)
    component = factory.SubFactory(ItemFactory)
    quantity = 2


class ItemMappingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ItemMapping

    channel = factory.SubFactory(ChannelFactory)
    channel_sku = factory.Sequence(lambda n: f"LISTING-{n}")
    title = factory.LazyAttribute(lambda o: f"Listing {o.channel_sku}")
    status = MappingStatus.UNMAPPED


class ChannelUploadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelUpload

    channel = factory.SubFactory(ChannelFactory)
    kind = UploadKind.PRODUCT
    key = factory.Sequence(lambda n: f"STYLE-{n}|RED")
    content_hash = factory.Sequence(lambda n: f"{n:064x}")
    accepted_at = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


class SyncCursorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncCursor

    channel = factory.SubFactory(ChannelFactory)
    flow = "orders.download"


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRun

    channel = factory.SubFactory(ChannelFactory)
    flow = "orders.download"
    status = SyncRun.Status.OK


class SyncIssueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncIssue

    channel = factory.SubFactory(ChannelFactory)
    flow = "orders.download"
    record_key = factory.Sequence(lambda n: f"record-{n}")
    message = "Something went wrong"
    payload = factory.LazyFunction(lambda: {"id": 1})


class MappingImportFactory(factory.django.DjangoModelFactory):
    """A job checked and waiting for its owner's confirmation; no stored file unless `upload` is given."""

    class Meta:
        model = MappingImport

    owner = factory.SubFactory("tests.orders.factories.UserFactory")
    status = ImportStatus.READY
    file_name = "mappings.csv"
    file_format = "csv"
