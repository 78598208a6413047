import pytest
from django.db import connection


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL semantics; on SQLite they are skipped with the reason printed."""
    import os

    from django.conf import settings

    if os.environ.get("FAULT_MATRIX") != "full":
        long = pytest.mark.skip(reason="the whole fault matrix runs with FAULT_MATRIX=full (CI: once, on PostgreSQL)")
        for item in items:
            if item.get_closest_marker("faults"):
                item.add_marker(long)
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (row locks / NOWAIT); run with DATABASE_URL=postgres://…")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(scope="session")
def sandbox_servers():
    """The four sandbox APIs on free ports on 127.0.0.1, for the whole test session."""
    from integrations.sandbox.registry import Sandboxes

    sandboxes = Sandboxes.start()
    yield sandboxes
    sandboxes.stop()


@pytest.fixture
def sandbox(sandbox_servers, settings):
    """The sandboxes with fresh state and no faults; HTTP retries back off in milliseconds."""
    settings.HTTP_RETRY_BACKOFF = 0.01
    sandbox_servers.reset()
    return sandbox_servers


@pytest.fixture
def sandbox_channel(sandbox, db):
    """Make a Channel pointed at a sandbox: `sandbox_channel("channeladvisor", settings={...})`."""
    from integrations.models import Channel

    def make(kind: str, **overrides):
        values = sandbox.channel_values(kind)
        settings_overrides = overrides.pop("settings", {})
        values["settings"] = {**values["settings"], **settings_overrides}
        values.update(overrides)
        return Channel.objects.create(**values)

    return make


@pytest.fixture
def register_flow(monkeypatch):
    """Register a plain function as a flow for one test: `register_flow("orders.download", func)`. A declared
    flow keeps its role and capability (so the same channels support it); a new name runs on any channel."""
    from dataclasses import replace

    from integrations import flows

    def register(name: str, func):
        keys = [key for key in flows._registry if key[0] == name]
        for key in keys:
            monkeypatch.setitem(flows._registry, key, replace(flows._registry[key], func=func))
        if not keys:
            monkeypatch.setitem(flows._registry, (name, flows.ANY_ROLE), flows.Flow(name, flows.ANY_ROLE, None, func))
        return func

    return register


@pytest.fixture
def queued_tasks():
    """The django-q2 tasks waiting on the ORM broker, decoded: [{"func": ..., "args": (...), ...}]."""
    from django_q.models import OrmQ

    return lambda: [q.task for q in OrmQ.objects.order_by("id")]


@pytest.fixture
def console_log(caplog):
    """What the configured console handler (with its redaction filter) writes, at DEBUG: a StringIO."""
    import io
    import logging

    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="integrations")  # whatever an earlier test left on the app's logger
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@pytest.fixture(autouse=True)
def failed_records_are_in_the_issue_queue(request):
    """Every run of the suite is checked as the runner records it (tests/history.py): a run that counts failed
    records has them in the issue queue, as docs/operations.md says of every partial run."""
    from django.db.models.signals import post_save

    from integrations.models import SyncRun
    from tests.history import unqueued_failures

    unqueued: list[str] = []

    def check(sender, instance: SyncRun, update_fields=None, **kwargs) -> None:
        if update_fields and "failed" in update_fields and (problem := unqueued_failures(instance)):
            unqueued.append(problem)

    post_save.connect(check, sender=SyncRun, weak=False, dispatch_uid="failed-records-queued")
    yield
    post_save.disconnect(sender=SyncRun, dispatch_uid="failed-records-queued")
    if request.node.get_closest_marker("unqueued_failures"):
        return  # the test of the check itself
    assert not unqueued, f"runs with failed records not in the issue queue: {unqueued}"
