"""One row of every model the admin shows, and a logged-in client per role."""

import uuid

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.utils import timezone
from django_q.models import OrmQ, Schedule, Task

from access.roles import MAPPING_STAFF, OPERATIONS_MANAGER, VIEWER
from integrations.tasks import RUN_FLOW
from tests.orders.factories import UserFactory
from tests.permissions.walker import model_label
from tests.test_factories import model_factories

GROUPS = {"viewer": VIEWER, "mapping": MAPPING_STAFF, "operations": OPERATIONS_MANAGER}


def _task(success: bool) -> Task:
    now = timezone.now()
    return Task.objects.create(id=uuid.uuid4().hex, name=f"task-{success}", func=RUN_FLOW, args=(1, "orders.download"),
                               started=now, stopped=now, success=success)  # fmt: skip


def _others(channel_id: int) -> dict:
    """Rows of the models that have no factory of ours: django-q2's, auth's and django-axes'."""
    attempt = {"user_agent": "test", "ip_address": "127.0.0.1", "username": "someone", "http_accept": "*/*",
               "path_info": "/admin/login/"}  # fmt: skip
    return {
        "django_q.schedule": Schedule.objects.create(
            name=f"switchyard:walk:{uuid.uuid4().hex[:6]}", func=RUN_FLOW, args=repr((channel_id, "orders.download"))
        ),
        "django_q.success": _task(True),
        "django_q.failure": _task(False),
        "django_q.ormq": OrmQ.objects.create(key="switchyard", payload="x", lock=timezone.now()),
        "auth.group": Group.objects.get(name=VIEWER),
        "auth.user": UserFactory(username="someone-else"),
        "axes.accessattempt": AccessAttempt.objects.create(
            **attempt, get_data="", post_data="", failures_since_start=1
        ),
        "axes.accesslog": AccessLog.objects.create(**attempt),
        "axes.accessfailurelog": AccessFailureLog.objects.create(**attempt),
    }


@pytest.fixture
def world(db) -> dict:
    """{model label: one row} for every model registered in the admin."""
    # The plain factory of each model (ChannelFactory, a sales channel, rather than FulfillmentChannelFactory).
    factories = {model_label(f._meta.model): f for f in model_factories()}
    factories.update(
        {model_label(f._meta.model): f for f in model_factories() if f.__name__ == f"{f._meta.model.__name__}Factory"}
    )
    rows = {label: factory() for label, factory in factories.items()}
    rows.update(_others(rows["integrations.channel"].pk))
    missing = {model_label(m) for m in admin.site._registry} - set(rows)
    assert not missing, f"No row for {sorted(missing)}: add a factory (tests/factories.py) or a row in _others()"
    return rows


def role_client(role: str) -> Client:
    client = Client()
    if role == "anonymous":
        return client
    user = UserFactory(username=f"walk-{role}", is_staff=role != "nonstaff", is_superuser=role == "superuser")
    if role == "viewonly":
        user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    if role in GROUPS:
        user.groups.add(Group.objects.get(name=GROUPS[role]))
    client.force_login(user)
    client.user = user
    return client
