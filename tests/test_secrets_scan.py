"""A known secret planted in every credential field of every connector kind, in the order notification secret
and in an alert webhook URL, never shows: not in the database file or its tables, not in `dumpdata`, not in the
DEBUG log of failing flows (whose upstreams echo the credentials back), not on any admin page (every model's list,
change and history pages, and every other admin URL the permissions walk knows), not in any export."""

import io
from pathlib import Path

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from integrations.connectors import connector_class
from integrations.flows import registered
from integrations.models import Channel, ChannelKind, ChannelRole
from integrations.runner import flow_run, supported_flows
from orders.hooks import SIGNATURE_HEADER, hook_header
from tests.integrations.test_admin_channels import form_data
from tests.permissions.test_walk import QUERIES, own_import_jobs, url_values
from tests.permissions.walker import build_url, endpoints, model_label
from tests.test_factories import model_factories

pytestmark = pytest.mark.django_db(transaction=True)  # committed, so the database file holds every row
PLANT = "PLANTED-SECRET-d41c8e"


@pytest.fixture
def planted(sandbox, admin_client) -> list[Channel]:
    """A channel of every kind pointed at its sandbox, every credential a planted value, upstreams that echo
    every request's credentials back in an error, a planted notification secret set on the rules page, and a
    planted alert webhook URL (unreachable, so its failure is logged) set on a channel's page."""
    channels = {}
    for kind in ChannelKind.values:
        values = sandbox.channel_values(kind)
        schema = connector_class(kind).credentials_schema
        values["credentials"] = {spec.name: f"{PLANT}-{kind}-{spec.name}" for spec in schema}
        channels[kind] = Channel.objects.create(**values)
        sandbox.api(kind).inject("echo_credentials", times=100_000, status=400)
    Channel.objects.filter(role=ChannelRole.SALES).update(fulfillment=channels["oms"])
    rules = {"channel": channels["extensiv"].pk, "submit_retry_days": 3, "hook_secret": f"{PLANT}-hook"}
    assert admin_client.post(reverse("admin:orders_orderrules_add"), rules).status_code == 302
    oms = channels["oms"]
    hook = {"alert_webhook_url": f"http://127.0.0.1:9/services/{PLANT}-alert"}
    change = reverse("admin:integrations_channel_change", args=[oms.pk])
    assert admin_client.post(change, form_data(admin_client, oms, **hook)).status_code == 302
    for factory in model_factories():  # a row of every model, so every change page has something to show
        factory()
    return list(Channel.objects.filter(pk__in=[c.pk for c in channels.values()]))


def assert_clean(where: str, text: str | bytes) -> None:
    needle = PLANT.encode() if isinstance(text, bytes) else PLANT
    assert needle not in text, f"the planted secret is in {where}"


def run_every_flow(channels: list[Channel]) -> None:
    for channel in channels:
        for flow in sorted(set(supported_flows(channel.kind)) & set(registered())):
            flow_run(channel=Channel.objects.get(pk=channel.pk), flow=flow, trigger="manual")


def notify(client, channel: Channel) -> None:
    body = b'{"event": "order.approved"}'
    headers = {SIGNATURE_HEADER: hook_header(secret=f"{PLANT}-hook", body=body)}
    client.post(f"/hooks/{channel.slug}/orders", data=body, content_type="application/json", headers=headers)


def admin_pages(client) -> dict[str, str]:
    """Every registered model's changelist, and the change and history pages of its first rows."""
    pages = {}
    for model, model_admin in admin.site._registry.items():
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages[f"{name}_changelist"] = client.get(reverse(f"{name}_changelist"))
        for pk in model_admin.get_queryset(RequestFactory().get("/")).values_list("pk", flat=True)[:3]:
            for view in ("change", "history"):
                try:
                    pages[f"{name}_{view} {pk}"] = client.get(reverse(f"{name}_{view}", args=[pk]), follow=True)
                except NoReverseMatch:
                    continue
    for url, response in pages.items():
        assert response.status_code == 200, url
    return {url: response.content.decode() for url, response in pages.items()}


def every_admin_url(client, channel: Channel, user) -> dict[str, str]:
    """Every other admin URL the permissions walk knows (custom screens: pairing, dashboard, imports, previews),
    filled with the first row of each model and the channel that has every secret planted."""
    world = {model_label(model): model._default_manager.order_by("pk").first() for model in admin.site._registry}
    world["integrations.channel"] = channel
    world["own import jobs"] = own_import_jobs(user)  # an import job's pages are its owner's
    pages = {}
    for endpoint in endpoints():
        if not (endpoint.name or "").startswith("admin:") or endpoint.name == "admin:logout":
            continue
        if endpoint.model_admin and world[model_label(endpoint.model_admin.model)] is None:
            continue
        url = build_url(endpoint, url_values(endpoint, world)) + QUERIES.get(endpoint.key, "")
        response = client.get(url)
        assert response.status_code < 500, url
        pages[url] = response.content.decode(errors="replace")
    assert reverse("admin:index") in pages and reverse("admin:integrations_channel_test", args=[channel.pk]) in pages
    return pages


def exports(user) -> dict[str, bytes | str]:
    """Every import-export export of every admin that has one, in each of its formats."""
    files = {}
    for model, model_admin in admin.site._registry.items():
        if not hasattr(model_admin, "get_export_data"):
            continue
        request = RequestFactory().get("/")
        request.user = user
        for file_format in model_admin.get_export_formats():
            queryset = model_admin.get_export_queryset(request)
            files[f"{model.__name__} {file_format.__name__}"] = model_admin.get_export_data(
                file_format(), request, queryset
            )
    assert files, "no export found"
    return files


def database_contents() -> dict[str, str | bytes]:
    """Every row of every table as text, and on SQLite the database file and its WAL as bytes."""
    found: dict[str, str | bytes] = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            found[f"table {table}"] = repr(cursor.fetchall())
    if connection.vendor == "sqlite":
        name = Path(connection.settings_dict["NAME"])
        for path in (name, name.with_name(name.name + "-wal")):
            if path.exists():
                found[f"file {path.name}"] = path.read_bytes()
    return found


def test_a_planted_secret_shows_nowhere(planted, client, admin_client, admin_user, console_log):
    run_every_flow(planted)
    for channel in planted:
        admin_client.post(reverse("admin:integrations_channel_test", args=[channel.pk]))
    notify(client, planted[0])
    log = console_log.getvalue()
    assert "Rejected: credentials" in log  # the upstreams did echo, and the DEBUG log saw their answers
    assert "the alert webhook of oms" in log  # the digest was POSTed to the planted URL, and failed
    assert_clean("the DEBUG log of the failing flows", log)
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert_clean("dumpdata", dump.getvalue())
    for where, content in database_contents().items():
        assert_clean(where, content)
    for url, page in admin_pages(admin_client).items():
        assert_clean(url, page)
    for url, page in every_admin_url(admin_client, Channel.objects.get(slug="oms-sandbox"), admin_user).items():
        assert_clean(url, page)
    for name, data in exports(admin_user).items():
        assert_clean(f"the {name} export", data)
