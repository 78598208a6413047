"""Every URL the project serves and every admin action, requested as each role (anonymous, a user without staff
status, a staff user with every view permission and nothing else, each role group, a superuser), GET and POST:
the roles let through must be exactly those in expectations.py. A new page, screen or action without an entry
there fails this test; one that forgets its permission check fails it too."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import reverse

from inventory.models import InventoryImportKind
from tests.factories import MappingImportFactory
from tests.inventory.factories import InventoryImportFactory
from tests.permissions.conftest import role_client
from tests.permissions.expectations import ACTIONS, EXTRA_POSTS, MODELS, ROLES, URLS
from tests.permissions.walker import Endpoint, action_ran, actions, build_url, endpoints, let_through, model_label

ADD_TO_TABLE = "add it to tests/permissions/expectations.py with the roles that may use it"


def expected(endpoint: Endpoint) -> tuple[frozenset[str], frozenset[str]]:
    if endpoint.key in URLS:
        return URLS[endpoint.key]
    if endpoint.model_admin is not None:
        label = model_label(endpoint.model_admin.model)
        assert label in MODELS, f"The admin of {label} is not in MODELS: {ADD_TO_TABLE}"
        roles = MODELS[label].for_url(endpoint.suffix)
        assert roles is not None, f"{endpoint.key} ({endpoint.route}) is a custom admin URL: {ADD_TO_TABLE} (URLS)"
        return roles
    raise AssertionError(f"Unknown URL {endpoint.key!r} ({endpoint.route}): {ADD_TO_TABLE} (URLS)")


def url_values(endpoint: Endpoint, world: dict) -> dict[str, object]:
    channel, item = world["integrations.channel"], world["catalog.item"]
    row = world[model_label(endpoint.model_admin.model)] if endpoint.model_admin else item
    return {
        "object_id": row.pk,
        "id": row.pk,
        "pk": row.pk if endpoint.model_admin else channel.pk,
        "item_id": item.pk,
        "channel_id": channel.pk,
        "flow": "integrations.ping",
        "slug": channel.slug,
        "app_label": "catalog",
        "content_type_id": ContentType.objects.get_for_model(item).pk,
        "url": "nowhere/",
        "job_id": world["own import jobs"].get(model_label(endpoint.model_admin.model) if endpoint.model_admin else ""),
    }


def own_import_jobs(owner) -> dict:
    """An import job of `owner` for each screen that imports (a job's pages are its owner's, on its own screen)."""
    return {
        "catalog.itemmapping": MappingImportFactory(owner=owner).pk,
        "inventory.stocklevel": InventoryImportFactory(owner=owner, kind=InventoryImportKind.STOCK).pk,
        "inventory.incomingsupply": InventoryImportFactory(owner=owner, kind=InventoryImportKind.SUPPLY).pk,
    }


QUERIES = {"admin:autocomplete": "?app_label=catalog&model_name=itemmapping&field_name=item&term=a"}


def request(client, method: str, url: str, data: dict | None = None, *, judge=let_through) -> bool:
    """One request whose writes are rolled back, so every request sees the same rows."""
    with transaction.atomic():
        response = getattr(client, method)(url, data or {})
        transaction.set_rollback(True)
    return judge(response)


@pytest.fixture(autouse=True)
def quick_http(settings):
    settings.HTTP_RETRY_ATTEMPTS = 1  # "Test connection" and "Push again" call 127.0.0.1:9: one refusal is enough
    settings.HTTP_RETRY_BACKOFF = 0


def test_every_model_url_and_action_is_in_the_table(db, django_user_model):
    superuser = django_user_model(is_superuser=True, is_staff=True)
    problems = []
    for endpoint in endpoints():
        try:
            expected(endpoint)
        except AssertionError as exc:
            problems.append(str(exc).splitlines()[0])
    problems += [
        f"{label}: {name}" for label, names in actions(superuser).items() for name in names
        if name not in ACTIONS.get(label, {})
    ]  # fmt: skip
    assert problems == [], f"Not in the table: {problems}; {ADD_TO_TABLE}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_let_through_exactly_where_the_table_says(role, world, django_user_model):
    client = role_client(role)
    owner = getattr(client, "user", None) or world["catalog.mappingimport"].owner  # anonymous: anyone's
    world = {**world, "own import jobs": own_import_jobs(owner)}
    wrong = []
    for endpoint in endpoints():
        url = build_url(endpoint, url_values(endpoint, world)) + QUERIES.get(endpoint.key, "")
        for method, allowed in zip(("get", "post"), expected(endpoint), strict=True):
            if request(client, method, url) != (role in allowed):
                wrong.append(
                    f"{method.upper()} {url} ({endpoint.key}): expected {'let through' if role in allowed else 'refused'}"
                )
            if endpoint.key == "admin:logout" and role != "anonymous":
                client.force_login(client.user)
    by_name = {endpoint.name: endpoint for endpoint in endpoints() if endpoint.name}
    for label, name, data, allowed in EXTRA_POSTS:
        url = build_url(by_name[name], url_values(by_name[name], world))
        if request(client, "post", url, data) != (role in allowed):
            wrong.append(f"{label}: POST {url}: expected {'let through' if role in allowed else 'refused'}")
    wrong += wrong_actions(client, role, world, django_user_model)
    assert not wrong, f"As {role}:\n" + "\n".join(wrong)


def wrong_actions(client, role: str, world: dict, django_user_model) -> list[str]:
    superuser = django_user_model(is_superuser=True, is_staff=True)
    wrong = []
    for label, names in actions(superuser).items():
        url = reverse(f"admin:{label.replace('.', '_')}_changelist")
        for name in names:
            allowed = ACTIONS[label][name]
            data = {"action": name, "_selected_action": [world[label].pk], "select_across": "1", "index": "0"}
            if request(client, "post", url, data, judge=action_ran) != (role in allowed):
                wrong.append(f"action {label}.{name}: expected {'let through' if role in allowed else 'refused'}")
    return wrong
