"""Crash tests' tools: run one flow in a real child process (`manage.py sync`), let the sandbox hold the answer to
the request a fault is injected on, and SIGKILL the process while it waits. No test-only code runs in the child:
it is the product's own command on the test database, and the sandbox's fault says when the request arrived.

The test must use the transactional database (`django_db(transaction=True)`): the child sees committed rows only.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from integrations.models import Channel, SyncRun
from integrations.runner import BUSY, flow_run
from integrations.sandbox.server import Fault

MANAGE = Path(settings.BASE_DIR) / "manage.py"
REACH_SECONDS = 30  # the child starts Django and runs until the held request: a few seconds, unless broken
HOLD = 20.0  # how long the sandbox holds the answer: far longer than the kill takes, and the thread then ends


def database_url() -> str:
    """The test database, as a DATABASE_URL the child's settings understand."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def killed_at(fault: Fault, channel: Channel, flow: str) -> None:
    """Run `flow` on `channel` in a child process and SIGKILL it once a request takes `fault` (the sandbox then
    holds that request's answer: inject it with delay=HOLD). Fails if the child ends or never gets there."""
    env = {**os.environ, "DATABASE_URL": database_url(), "HTTP_RETRY_BACKOFF": "0.01"}
    command = [sys.executable, str(MANAGE), "sync", "--channel", channel.slug, "--flow", flow]
    with tempfile.TemporaryFile() as output:
        child = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + REACH_SECONDS
            while not fault.reached.wait(0.05) and child.poll() is None and time.monotonic() < deadline:
                pass
            ended = child.poll()
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        if ended is not None or not fault.reached.is_set():
            output.seek(0)
            said = output.read().decode(errors="replace")[-3000:]
            pytest.fail(f"{flow} never reached the held request (exit {ended}) before the kill:\n{said}")


def run_after_crash(channel: Channel, flow: str) -> SyncRun:
    """The next run, in this process. On PostgreSQL the dead child's session (and its advisory lock) ends when
    the server reads the closed socket, a moment after the kill: only then is BUSY retried, for a few seconds.
    On SQLite the dead holder's lease is taken over at once, so BUSY there is a failure."""
    for _ in range(50):
        run = flow_run(channel=channel, flow=flow, trigger=SyncRun.Trigger.MANUAL)
        if run.error != BUSY or connection.vendor != "postgresql":
            break
        time.sleep(0.1)
    assert run.error != BUSY, "the dead run's guard was not released"
    return run
