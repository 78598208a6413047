"""What each role's permissions mean on the screens that matter: actions, the policy preview, the task queue and
channel credentials; and the role groups themselves."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse
from django_q.models import OrmQ, Schedule

from access.roles import MAPPING_STAFF, OPERATIONS_MANAGER, ROLES, VIEWER, groups_sync
from catalog.models import MappingStatus
from integrations.connectors import connector_class
from integrations.forms import credential_field, flow_fields, setting_field
from integrations.models import Channel, ChannelKind
from integrations.tasks import RUN_FLOW
from tests.factories import ChannelFactory, ItemMappingFactory
from tests.integrations.test_admin_channels import form_data
from tests.inventory.factories import InventoryPolicyFactory
from tests.orders.factories import OrderRulesFactory
from tests.permissions.conftest import _task, role_client

pytestmark = pytest.mark.django_db


def test_a_viewer_cannot_ignore_listings_across_the_whole_list():
    mappings = ItemMappingFactory.create_batch(3)
    data = {"action": "ignore_selected", "_selected_action": [mappings[0].pk], "select_across": "1", "index": "0"}

    role_client("viewer").post(reverse("admin:catalog_itemmapping_changelist"), data)

    assert {m.status for m in type(mappings[0]).objects.all()} == {MappingStatus.UNMAPPED}


def test_mapping_staff_ignore_listings_across_the_whole_list():
    mappings = ItemMappingFactory.create_batch(3)
    data = {"action": "ignore_selected", "_selected_action": [mappings[0].pk], "select_across": "1", "index": "0"}

    role_client("mapping").post(reverse("admin:catalog_itemmapping_changelist"), data)

    assert {m.status for m in type(mappings[0]).objects.all()} == {MappingStatus.IGNORED}


@pytest.mark.parametrize("role", ["viewer", "mapping"])
def test_the_policy_preview_is_refused_to_whoever_may_not_change_the_policy(role):
    policy = InventoryPolicyFactory()
    url = reverse("admin:inventory_inventorypolicy_change", args=[policy.pk])

    response = role_client(role).post(url, {"_preview": "Preview", "channel": policy.channel_id, "buffer": "x"})

    assert response.status_code == 403


def test_the_policy_preview_of_a_missing_policy_is_a_404():
    url = reverse("admin:inventory_inventorypolicy_change", args=[987654])
    assert role_client("operations").post(url, {"_preview": "Preview"}).status_code == 404


def test_an_operations_manager_previews_a_policy():
    policy = InventoryPolicyFactory()
    url = reverse("admin:inventory_inventorypolicy_change", args=[policy.pk])

    response = role_client("operations").post(url, {"_preview": "Preview", "channel": policy.channel_id})

    assert response.status_code == 200 and "preview, not saved" in response.context["title"]


def managed_schedule() -> Schedule:
    channel = ChannelFactory()
    return Schedule.objects.create(name=f"switchyard:{channel.slug}:orders.download", func=RUN_FLOW,
                                   args=repr((channel.pk, "orders.download")))  # fmt: skip


def test_a_managed_schedule_is_read_only_even_for_a_superuser_and_says_who_owns_it():
    schedule = managed_schedule()
    client = role_client("superuser")
    url = reverse("admin:django_q_schedule_change", args=[schedule.pk])

    page = client.get(url)
    saved = client.post(url, {"name": schedule.name, "func": "os.system", "args": "('id',)"})
    deleted = client.post(reverse("admin:django_q_schedule_delete", args=[schedule.pk]), {"post": "yes"})

    assert "Switchyard owns this schedule" in page.content.decode()
    assert (saved.status_code, deleted.status_code) == (403, 403)
    schedule.refresh_from_db()
    assert schedule.func == RUN_FLOW


def test_only_a_superuser_adds_a_schedule():
    data = {"name": "nightly", "func": "math.floor", "args": "1.5", "schedule_type": Schedule.DAILY, "repeats": "-1",
            "next_run_0": "2026-12-05", "next_run_1": "03:00:00"}  # fmt: skip
    url = reverse("admin:django_q_schedule_add")

    refused = role_client("operations").post(url, data)
    added = role_client("superuser").post(url, data)

    assert refused.status_code == 403
    assert added.status_code == 302 and Schedule.objects.filter(name="nightly").count() == 1


def test_only_a_superuser_resubmits_a_failed_task():
    task = _task(success=False)
    data = {"action": "resubmit", "_selected_action": [task.pk], "index": "0"}
    url = reverse("admin:django_q_failure_changelist")

    role_client("operations").post(url, data)
    queued_by_operations = OrmQ.objects.count()
    role_client("superuser").post(url, data)

    assert (queued_by_operations, OrmQ.objects.count()) == (0, 1)


@pytest.fixture
def channel():
    specs = connector_class(ChannelKind.CHANNELADVISOR).credentials_schema
    return ChannelFactory(kind=ChannelKind.CHANNELADVISOR, credentials={s.name: f"stored-{s.name}" for s in specs})


def test_an_operations_manager_changes_a_channel_but_not_its_credentials_or_base_url(channel):
    client = role_client("operations")
    url = reverse("admin:integrations_channel_change", args=[channel.pk])
    forged = {credential_field(spec): "attacker" for spec in connector_class(channel.kind).credentials_schema}

    page = client.get(url)
    response = client.post(url, {**form_data(client, channel, name="Renamed"), **forged,
                                 "base_url": "https://attacker.example/"})  # fmt: skip

    assert response.status_code == 302
    assert "stored. Changing them" in page.content.decode() and 'type="password"' not in page.content.decode()
    channel.refresh_from_db()
    assert channel.name == "Renamed" and channel.base_url == "http://127.0.0.1:9/"
    assert set(channel.credentials.values()) == {f"stored-{name}" for name in channel.credentials}


def test_an_operations_manager_changes_settings_and_flows_but_not_an_address_setting():
    """Extensiv's auth_base_url is where its credentials go: moving it would drop them (or send them elsewhere)."""
    specs = connector_class(ChannelKind.EXTENSIV).credentials_schema
    stored = {s.name: f"stored-{s.name}" for s in specs}
    channel = ChannelFactory(kind=ChannelKind.EXTENSIV, credentials=stored,
                             settings={"auth_base_url": "http://127.0.0.1:9/auth"})  # fmt: skip
    client = role_client("operations")
    url = reverse("admin:integrations_channel_change", args=[channel.pk])

    page = client.get(url).content.decode()
    forged = {setting_field(s): "https://attacker.example/" for s in connector_class(channel.kind).settings_schema
              if s.name.endswith("base_url")}  # fmt: skip
    flow = flow_fields("orders.download")[0]
    response = client.post(url, {**form_data(client, channel, **{flow: "on"}), **forged})

    assert response.status_code == 302
    assert 'name="setting_auth_base_url"' not in page and "auth_base_url: http://127.0.0.1:9/auth" in page
    channel.refresh_from_db()
    assert channel.settings["auth_base_url"] == "http://127.0.0.1:9/auth" and channel.credentials == stored
    assert channel.flow_enabled("orders.download")


def test_whoever_holds_the_credentials_permission_moves_an_address_setting_with_the_credentials():
    specs = connector_class(ChannelKind.EXTENSIV).credentials_schema
    channel = ChannelFactory(kind=ChannelKind.EXTENSIV, credentials={s.name: f"stored-{s.name}" for s in specs})
    client = role_client("superuser")
    url = reverse("admin:integrations_channel_change", args=[channel.pk])
    typed = {credential_field(s): f"new-{s.name}" for s in specs}

    client.post(url, form_data(client, channel, setting_auth_base_url="https://auth.example/", **typed))

    channel.refresh_from_db()
    assert channel.settings["auth_base_url"] == "https://auth.example/"
    assert channel.credentials == {s.name: f"new-{s.name}" for s in specs}


def test_an_operations_manager_adding_a_channel_cannot_give_it_an_address():
    client = role_client("operations")
    data = {"name": "New", "slug": "new", "kind": "oms", "role": "fulfillment", "enabled": "on",
            "base_url": "https://attacker.example/", "alert_webhook_url": "https://attacker.example/hook"}  # fmt: skip

    assert client.post(reverse("admin:integrations_channel_add"), data).status_code == 302

    channel = Channel.objects.get(slug="new")
    assert (channel.base_url, channel.alert_webhook_url) == ("", "")


def test_the_credentials_permission_lets_a_user_replace_credentials(channel):
    client = role_client("superuser")
    spec = connector_class(channel.kind).credentials_schema[0]

    client.post(reverse("admin:integrations_channel_change", args=[channel.pk]),
                form_data(client, channel, **{credential_field(spec): "replaced"}))  # fmt: skip

    channel.refresh_from_db()
    assert channel.credentials[spec.name] == "replaced"


def test_an_operations_manager_cannot_set_the_order_hook_secret():
    rules = OrderRulesFactory()
    client = role_client("operations")
    url = reverse("admin:orders_orderrules_change", args=[rules.pk])
    data = {"channel": rules.channel_id, "submit_retry_days": "3", "hook_secret": "attacker"}

    response = client.post(url, data)

    assert response.status_code == 302
    rules.channel.refresh_from_db()
    assert "hook_secret" not in rules.channel.credentials


def test_the_groups_exist_with_their_grants_and_no_credentials_or_schedules():
    grants = {g.name: {f"{p.content_type.app_label}.{p.codename}" for p in g.permissions.all()}
              for g in Group.objects.filter(name__in=ROLES).prefetch_related("permissions__content_type")}  # fmt: skip

    assert set(grants) == set(ROLES)
    assert all(code.split(".")[1].startswith("view_") for code in grants[VIEWER])
    assert {"catalog.view_item", "django_q.view_schedule", "orders.view_order"} <= grants[VIEWER]
    assert grants[MAPPING_STAFF] - grants[VIEWER] == {
        "catalog.add_itemmapping", "catalog.change_itemmapping", "inventory.add_stocklevel",
        "inventory.change_stocklevel", "inventory.add_incomingsupply", "inventory.change_incomingsupply",
    }  # fmt: skip
    operations = grants[OPERATIONS_MANAGER]
    assert {"orders.delete_resubmit_order", "orders.change_shipmentupload", "integrations.change_channel"} <= operations
    assert not {"integrations.change_channel_credentials", "integrations.delete_channel"} & operations
    assert not {code for code in operations if code.startswith(("django_q.add", "django_q.change", "auth."))}


def test_a_group_edited_by_hand_is_put_back_by_migrate():
    viewer = Group.objects.get(name=VIEWER)
    viewer.permissions.add(Permission.objects.get(codename="change_channel_credentials"))

    call_command("migrate", verbosity=0)

    assert not viewer.permissions.filter(codename="change_channel_credentials").exists()


def test_groups_sync_is_idempotent():
    before = {g.name: set(g.permissions.values_list("pk", flat=True)) for g in Group.objects.filter(name__in=ROLES)}
    groups_sync()
    after = {g.name: set(g.permissions.values_list("pk", flat=True)) for g in Group.objects.filter(name__in=ROLES)}
    assert before == after
