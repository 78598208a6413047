"""catalog.upload to NuORDER: products by style and colour over HTTP, only what changed since NuORDER accepted it."""

import logging
from decimal import Decimal

import pytest

from catalog.models import ChannelUpload, Item, UploadKind
from catalog.product_upload import StyleItem, product_name
from catalog.sync import catalog_items_download, catalog_upload
from catalog.sync_common import FLOW, UPLOAD_FLOW
from integrations.connectors.base import SettingsError
from integrations.flows import RunReport
from integrations.models import SyncIssue, SyncRun
from integrations.runner import flow_run

pytestmark = pytest.mark.django_db
UPSERT = r"^/api/product/new/force$"


@pytest.fixture
def nuorder(sandbox_channel, catalog):
    return sandbox_channel("nuorder")


@pytest.fixture
def api(sandbox):
    return sandbox.api("nuorder")


def upload(channel, **kwargs) -> RunReport:
    report = RunReport(flow=UPLOAD_FLOW, dry_run=kwargs.get("dry_run", False))
    catalog_upload(channel, report=report, **kwargs)
    return report


def styles() -> set[tuple[str, str]]:
    return set(Item.objects.values_list("item_number", "color_code"))


def test_first_upload_sends_every_product_by_style_and_colour(nuorder, api):
    report = upload(nuorder)

    assert report.created == report.seen == len(styles()) == api.calls_to("PUT", UPSERT)
    product = api.product_by_style("1001", "RED")
    items = Item.objects.filter(item_number="1001", color_code="RED").order_by("id")
    assert [(s["size"], s["upc"]) for s in product["sizes"]] == [(i.size, i.upc) for i in items]
    assert product["pricing"] == {"USD": {"wholesale": 10.0, "retail": 20.0}}
    assert (product["name"], product["external_id"], product["active"], product["archived"]) == (
        "Style 1001 Red",
        "1001-RED",
        True,
        False,
    )


def test_items_without_a_size_are_one_size_products(nuorder, api):
    upload(nuorder)

    kit = Item.objects.get(sku="KIT1")
    assert api.product_by_style("KIT1")["sizes"] == [{"size": "OS", "upc": kit.upc}]


def test_a_second_upload_with_nothing_changed_sends_nothing(nuorder, api):
    upload(nuorder)
    api.calls.clear()

    report = upload(nuorder)

    assert api.calls_to("PUT", UPSERT) == 0
    assert (report.created, report.updated, report.skipped) == (0, 0, report.seen)


def test_only_the_changed_product_is_sent_again(nuorder, api):
    upload(nuorder)
    api.calls.clear()
    Item.objects.filter(item_number="1002").update(retail_price=Decimal("99.00"))

    report = upload(nuorder)

    sent = Item.objects.filter(item_number="1002").values("color_code").distinct().count()
    assert (report.updated, api.calls_to("PUT", UPSERT)) == (sent, sent)
    assert api.product_by_style("1002", "RED")["pricing"]["USD"]["retail"] == 99.0


def test_a_product_whose_items_are_all_inactive_is_archived(nuorder, api):
    Item.objects.filter(item_number="1003", color_code="BLUE").update(active=False)

    upload(nuorder)

    archived = api.product_by_style("1003", "BLUE")
    assert (archived["active"], archived["archived"]) == (False, True)
    assert len(archived["sizes"]) == 3  # an archived product keeps its sizes
    assert api.product_by_style("1003", "RED")["active"] is True


def test_an_inactive_size_leaves_an_active_product(nuorder, api):
    Item.objects.filter(sku="1004-RED-X-L").update(active=False)

    upload(nuorder)

    product = api.product_by_style("1004", "RED")
    assert product["active"] is True
    assert [s["size"] for s in product["sizes"]] == ["S", "M"]


def test_deactivating_an_item_in_the_fulfillment_system_archives_it_on_nuorder(nuorder, api, catalog, sandbox):
    upload(nuorder)
    oms = sandbox.api("oms")
    oms.advance(3600)
    for size in ("S", "M", "L"):
        oms.deactivate_item(f"1005-RED-X-{size}")
    catalog_items_download(catalog, report=RunReport(flow=FLOW))
    api.calls.clear()

    upload(nuorder)

    assert api.calls_to("PUT", UPSERT) == 1
    assert api.product_by_style("1005", "RED")["archived"] is True


def test_price_types_come_from_the_channel_settings(sandbox_channel, catalog, api):
    nuorder = sandbox_channel("nuorder", settings={"wholesale_price_type": "retail", "retail_price_type": "retail"})

    upload(nuorder)

    assert api.product_by_style("1001", "RED")["pricing"] == {"USD": {"wholesale": 20.0, "retail": 20.0}}


def test_an_unknown_price_type_fails_the_run_with_its_name(sandbox_channel, catalog, api):
    nuorder = sandbox_channel("nuorder", settings={"wholesale_price_type": "msrp"})

    with pytest.raises(SettingsError, match="'msrp'"):
        upload(nuorder)
    run = flow_run(channel=nuorder, flow=UPLOAD_FLOW, trigger=SyncRun.Trigger.MANUAL)
    assert run.status == SyncRun.Status.FAILED and "msrp" in run.error
    assert api.calls_to("PUT", UPSERT) == 0


def test_a_style_with_several_prices_sends_the_highest_and_queues_an_issue(nuorder, api):
    Item.objects.filter(sku="1001-BLUE-X-L").update(wholesale_price=Decimal("14.00"))

    run = flow_run(channel=nuorder, flow=UPLOAD_FLOW, trigger=SyncRun.Trigger.MANUAL)

    assert run.status == SyncRun.Status.PARTIAL
    assert api.product_by_style("1001", "RED")["pricing"]["USD"]["wholesale"] == 14.0
    issue = SyncIssue.objects.get(channel=nuorder, flow=UPLOAD_FLOW, record_key="style 1001")
    assert "wholesale 10.00, 14.00" in issue.message
    assert run.failed == 0  # every product went through: the warning is an issue, not a failed record
    assert run.seen == run.created + run.updated + run.skipped


def test_a_refused_product_is_queued_and_sent_again_next_time(nuorder, api):
    api.inject("status", status=400, path="/api/product/new/force")  # NuORDER refuses the first product

    run = flow_run(channel=nuorder, flow=UPLOAD_FLOW, trigger=SyncRun.Trigger.MANUAL)

    (issue,) = SyncIssue.objects.filter(channel=nuorder, flow=UPLOAD_FLOW)
    assert run.failed == 1 and "NuORDER refused" in issue.message
    assert not ChannelUpload.objects.filter(channel=nuorder, key=issue.record_key).exists()
    api.calls.clear()
    flow_run(channel=nuorder, flow=UPLOAD_FLOW, trigger=SyncRun.Trigger.MANUAL)
    assert api.calls_to("PUT", UPSERT) == 1
    issue.refresh_from_db()
    assert issue.status == SyncIssue.Status.RESOLVED


def test_the_ledger_keeps_nuorders_id_of_each_product(nuorder, api):
    upload(nuorder)

    row = ChannelUpload.objects.get(channel=nuorder, kind=UploadKind.PRODUCT, key="1001|RED")
    assert row.channel_ref == api.product_by_style("1001", "RED")["_id"]


def test_dry_run_sends_nothing(nuorder, api):
    report = upload(nuorder, dry_run=True)

    assert report.created == len(styles()) and api.calls_to("PUT", UPSERT) == 0
    assert not ChannelUpload.objects.exists()
    assert report.lines[0].startswith("create product ")


def test_credentials_stay_out_of_debug_logs(nuorder, caplog):
    with caplog.at_level(logging.DEBUG):
        upload(nuorder)

    for secret in nuorder.credentials.values():
        assert secret not in caplog.text


@pytest.mark.parametrize(
    ("descriptions", "sizes", "name"),
    [
        (["Style 1 Red S", "Style 1 Red M"], ["S", "M"], "Style 1 Red"),
        (["Shirt XS", "Shirt XL"], ["XS", "XL"], "Shirt"),
        (["Tote"], [""], "Tote"),
        (["Tee small", "Polo large"], ["", ""], ""),
    ],
)
def test_product_name_is_what_the_sizes_descriptions_share(descriptions, sizes, name):
    items = [
        StyleItem("1", "RED", size, "", text, True, None, None) for text, size in zip(descriptions, sizes, strict=True)
    ]
    assert product_name(items) == name
