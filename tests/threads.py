"""A second worker in a test: work on a thread with a database connection of its own."""

import threading
from collections.abc import Callable

from django.db import connection


def in_thread(work: Callable[[], object], setup: str = "") -> tuple[threading.Thread, list[BaseException]]:
    """`work()` started in a thread on a database connection of its own (after the SQL `setup`, if any); the
    thread and the list of what it raised, to assert empty once joined."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            if setup:
                with connection.cursor() as sql:
                    sql.execute(setup)
            work()
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, errors
