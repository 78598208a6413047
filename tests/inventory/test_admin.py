"""The inventory screens: every page answers, the pairing screen saves in one go and shows the effect, the
policy form refuses bad formulas with the position and previews a listing without saving, spreadsheets."""

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import MappingStatus
from integrations.models import ImportStatus
from inventory.models import Discrepancy, IncomingSupply, InventoryPolicy, PushIntent, PushLedger, StockLevel
from tests.factories import ChannelFactory, ItemFactory, ItemMappingFactory
from tests.inventory.factories import (
    ChannelWarehouseFactory,
    IncomingSupplyFactory,
    InventoryPolicyFactory,
    StockLevelFactory,
    WarehouseFactory,
    WarehousePairingFactory,
)
from tests.orders.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects():
    channel = ChannelFactory()
    main, east = WarehouseFactory(code="MAIN"), WarehouseFactory(code="EAST")
    dc = ChannelWarehouseFactory(channel=channel, external_id="10", name="DC-A")
    WarehousePairingFactory(channel_warehouse=dc, warehouse=main)
    item = ItemFactory(sku="SKU-1")
    stock = StockLevelFactory(item=item, warehouse=main, on_hand=9, allocated=1, available=8)
    supply = IncomingSupplyFactory(item=item, warehouse=main)
    mapping = ItemMappingFactory(channel=channel, channel_sku="L-1", item=item, status=MappingStatus.MAPPED)
    policy = InventoryPolicyFactory(channel=channel)
    ledger = PushLedger.objects.create(
        mapping=mapping, channel_warehouse=dc, quantity=8, accepted_at="2026-11-01T00:00Z"
    )
    intent = PushIntent.objects.create(mapping=mapping, channel_warehouse=dc, mode="absolute", quantity=8, state="sent")
    discrepancy = Discrepancy.objects.create(
        channel=channel, mapping=mapping, channel_warehouse=dc, hub_quantity=8, channel_quantity=5
    )
    return type("Objects", (), locals())


MODELS = ["warehouse", "stocklevel", "incomingsupply", "channelwarehouse", "inventorypolicy", "pushledger",
          "pushintent", "discrepancy"]  # fmt: skip
INSTANCES = {"warehouse": "main", "stocklevel": "stock", "incomingsupply": "supply", "channelwarehouse": "dc",
             "inventorypolicy": "policy", "pushledger": "ledger", "pushintent": "intent",
             "discrepancy": "discrepancy"}  # fmt: skip


@pytest.mark.parametrize("model", MODELS)
def test_every_admin_page_answers(admin_client, objects, model):
    obj = getattr(objects, INSTANCES[model])
    assert admin_client.get(reverse(f"admin:inventory_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:inventory_{model}_change", args=[obj.pk])).status_code == 200
    add = admin_client.get(reverse(f"admin:inventory_{model}_add"))
    assert add.status_code == (403 if model in ("warehouse", "pushledger", "pushintent", "discrepancy") else 200)


def test_pairing_screen_saves_pairs_and_exclusions_in_one_post_and_shows_the_effect(admin_client, objects):
    fba = WarehouseFactory(code="FBA")
    dc2 = ChannelWarehouseFactory(channel=objects.channel, external_id="11", name="DC-B")
    url = reverse("admin:inventory_pairing", args=[objects.channel.pk])
    assert admin_client.get(reverse("admin:inventory_pairing_index")).status_code == 200
    page = admin_client.get(url)
    assert page.status_code == 200 and b"DC-A" in page.content
    response = admin_client.post(
        url,
        {
            f"cw_{objects.dc.pk}": [objects.main.pk, objects.east.pk],
            f"cw_{dc2.pk}": [objects.east.pk],
            "mode": "per_warehouse",
            "excluded": [fba.pk],
        },
    )
    assert response.status_code == 302
    assert set(objects.dc.warehouses.values_list("code", flat=True)) == {"MAIN", "EAST"}
    assert set(dc2.warehouses.values_list("code", flat=True)) == {"EAST"}
    policy = InventoryPolicy.objects.get(channel=objects.channel)
    assert list(policy.excluded_warehouses.values_list("code", flat=True)) == ["FBA"]
    effect = admin_client.get(url).context["feeds"]
    assert {f.channel_warehouse.name: [w.code for w in f.warehouses] for f in effect} == {
        "DC-A": ["EAST", "MAIN"],
        "DC-B": ["EAST"],
    }
    assert next(f for f in effect if f.channel_warehouse.name == "DC-A").available == 8


def test_pairing_combined_mode_needs_a_target_when_there_are_several(admin_client, objects):
    ChannelWarehouseFactory(channel=objects.channel, external_id="11")
    url = reverse("admin:inventory_pairing", args=[objects.channel.pk])
    response = admin_client.post(url, {"mode": "combined"})
    assert response.status_code == 200
    assert "combined_target" in response.context["form"].errors
    assert InventoryPolicy.objects.get(channel=objects.channel).mode == "per_warehouse"


def test_pairing_suggests_loose_name_matches_for_a_person_to_accept(admin_client, objects):
    WarehouseFactory(code="W-EC", name="East Coast DC")
    WarehouseFactory(code="W-WEST", name="West")
    WarehouseFactory(code="W-WEST2", name="west")  # two loose matches: no suggestion for "WEST"
    coast = ChannelWarehouseFactory(channel=objects.channel, external_id="20", name="east  coast-dc", code="")
    west = ChannelWarehouseFactory(channel=objects.channel, external_id="21", name="WEST", code="")
    by_code = ChannelWarehouseFactory(channel=objects.channel, external_id="22", name="Elsewhere", code="east")
    url = reverse("admin:inventory_pairing", args=[objects.channel.pk])
    suggestions = admin_client.get(url).context["suggestions"]
    assert {(s.channel_warehouse.pk, s.warehouse.code) for s in suggestions} == {
        (coast.pk, "W-EC"),
        (by_code.pk, "EAST"),
    }
    assert not coast.warehouses.exists()  # only suggested until a person accepts

    response = admin_client.post(url, {"accept_suggestions": "1", "suggested": [coast.pk]})
    assert response.status_code == 302
    assert list(coast.warehouses.values_list("code", flat=True)) == ["W-EC"]
    assert not by_code.warehouses.exists() and not west.warehouses.exists()
    assert [s.channel_warehouse.pk for s in admin_client.get(url).context["suggestions"]] == [by_code.pk]


def test_accepting_pairing_suggestions_needs_the_change_permission(client, objects):
    coast = ChannelWarehouseFactory(channel=objects.channel, external_id="20", name="main", code="")
    viewer = UserFactory()
    viewer.user_permissions.set(Permission.objects.filter(codename="view_channelwarehouse"))
    client.force_login(viewer)
    url = reverse("admin:inventory_pairing", args=[objects.channel.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"accept_suggestions": "1", "suggested": [coast.pk]}).status_code == 403
    assert not coast.warehouses.exists()


def _policy_post(objects, **values):
    data = {
        "channel": objects.channel.pk, "source": "available", "formula": "", "buffer": 0, "share_percent": 100,
        "minimum_level": 0, "mode": "per_warehouse", "push_mode": "absolute", "incoming_days": 0,
        "subtract_pending_orders": "on", "preview_sku": "",
    }  # fmt: skip
    data.update(values)
    return data


def test_policy_form_refuses_a_bad_formula_with_its_position(admin_client, objects):
    url = reverse("admin:inventory_inventorypolicy_change", args=[objects.policy.pk])
    response = admin_client.post(url, _policy_post(objects, source="formula", formula="available.__class__"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["formula"] == [
        "attribute access ('.') is not allowed (at position 10)"
    ]
    objects.policy.refresh_from_db()
    assert objects.policy.source == "available"


def test_policy_form_saves_a_good_formula(admin_client, objects):
    url = reverse("admin:inventory_inventorypolicy_change", args=[objects.policy.pk])
    response = admin_client.post(url, _policy_post(objects, source="formula", formula="on_hand - open - 2"))
    assert response.status_code == 302
    objects.policy.refresh_from_db()
    assert objects.policy.formula == "on_hand - open - 2"


def test_policy_preview_shows_the_breakdown_without_saving(admin_client, objects):
    url = reverse("admin:inventory_inventorypolicy_change", args=[objects.policy.pk])
    data = _policy_post(objects, buffer=3, preview_sku="L-1", _preview="Preview")
    response = admin_client.post(url, data)
    assert response.status_code == 200
    [breakdown] = response.context["preview"]
    assert breakdown.quantity == 5  # 8 available - 3 buffer
    assert ("- safety buffer (3)", 5) in breakdown.steps
    assert b"Sent to the channel" in response.content
    objects.policy.refresh_from_db()
    assert objects.policy.buffer == 0


def test_policy_preview_of_an_unknown_listing_says_so(admin_client, objects):
    url = reverse("admin:inventory_inventorypolicy_change", args=[objects.policy.pk])
    response = admin_client.post(url, _policy_post(objects, preview_sku="NOPE", _preview="Preview"))
    assert "has no listing with SKU NOPE" in str(response.context["adminform"].form.errors)


def test_stock_spreadsheet_import_upserts_by_item_and_warehouse(admin_client, objects):
    new_item = ItemFactory(sku="=SKU-2")  # a SKU a spreadsheet would run as a formula
    csv = (
        "item_sku,warehouse,on_hand,allocated,available,updated_at\n"
        "SKU-1,MAIN,20,5,15,2026-11-01 08:00:00\n"
        "'=SKU-2,EAST,4,0,4,2026-11-01 08:00:00\n"
    )
    url = reverse("admin:inventory_stocklevel_import")
    upload = SimpleUploadedFile("stock.csv", csv.encode(), content_type="text/csv")
    preview = admin_client.post(url, {"format": "0", "resource": "0", "import_file": upload}, follow=True)
    job = preview.context["job"]
    assert job.status == ImportStatus.READY and "1 new, 1 updated, 0 unchanged" in preview.content.decode()
    response = admin_client.post(reverse("admin:inventory_stocklevel_import_confirm", args=[job.pk]))
    assert response.status_code == 302
    assert StockLevel.objects.get(item=objects.item, warehouse=objects.main).available == 15
    assert StockLevel.objects.get(item=new_item, warehouse=objects.east).on_hand == 4


def test_supply_spreadsheet_with_an_unknown_item_is_refused_row_by_row(admin_client, objects):
    csv = "item_sku,warehouse,purchase_order,quantity,expected_date\nNOPE,MAIN,PO-9,5,2026-12-01\n"
    upload = SimpleUploadedFile("supply.csv", csv.encode(), content_type="text/csv")
    preview = admin_client.post(
        reverse("admin:inventory_incomingsupply_import"),
        {"format": "0", "resource": "0", "import_file": upload},
        follow=True,
    )
    assert preview.context["job"].errors[0]["message"] == "item_sku: no item with sku 'NOPE'"
    assert IncomingSupply.objects.count() == 1


def test_discrepancy_export_neutralises_formula_cells(admin_client, objects):
    objects.mapping.channel_sku = "=HYPERLINK(1)"
    objects.mapping.save()
    response = admin_client.post(
        reverse("admin:inventory_discrepancy_export"),
        {"format": "0", "resource": "0", **_all_export_fields()},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "'=HYPERLINK(1)" in body and ",8,5,-3," in body


def _all_export_fields() -> dict:
    from inventory.resources import DiscrepancyResource

    return {f"discrepancyresource_{name}": "on" for name in DiscrepancyResource._meta.fields}


@pytest.mark.parametrize("model", ["stocklevel", "incomingsupply", "channelwarehouse", "pushintent", "discrepancy"])
def test_changelist_queries_do_not_grow_with_rows(admin_client, objects, model, django_assert_max_num_queries):
    url = reverse(f"admin:inventory_{model}_changelist")
    admin_client.get(url)  # warm the session and content types
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    for n in range(15):
        item = ItemFactory()
        dc = ChannelWarehouseFactory(channel=objects.channel, external_id=f"X{n}")
        WarehousePairingFactory(channel_warehouse=dc, warehouse=objects.east)
        StockLevelFactory(item=item, warehouse=objects.east)
        IncomingSupplyFactory(item=item, warehouse=objects.east)
        mapping = ItemMappingFactory(channel=objects.channel, item=item, status=MappingStatus.MAPPED)
        PushIntent.objects.create(mapping=mapping, channel_warehouse=dc, mode="absolute", quantity=1)
        Discrepancy.objects.create(channel=objects.channel, mapping=mapping, channel_warehouse=dc, hub_quantity=1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert admin_client.get(url).status_code == 200


def test_warehouse_pairing_is_in_the_inventory_menu_and_opens_the_pairing_screen(admin_client):
    menu = admin_client.get(reverse("admin:app_list", args=["inventory"])).content.decode()
    assert "Warehouse pairing" in menu and reverse("admin:inventory_warehousepairing_changelist") in menu

    response = admin_client.get(reverse("admin:inventory_warehousepairing_changelist"))

    assert response.status_code == 200 and response.templates[0].name == "admin/inventory/pairing_index.html"


def test_warehouse_pairing_menu_needs_the_channel_warehouse_permission(client, django_user_model):
    user = django_user_model.objects.create_user("clerk", password="pw-clerk-1", is_staff=True)
    client.force_login(user)

    assert "Warehouse pairing" not in client.get(reverse("admin:index")).content.decode()
    assert client.get(reverse("admin:inventory_warehousepairing_changelist")).status_code == 403
