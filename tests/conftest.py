import pytest
from django.db import connection


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL semantics; on SQLite they are skipped with the reason printed."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (row locks / NOWAIT); run with DATABASE_URL=postgres://…")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"
