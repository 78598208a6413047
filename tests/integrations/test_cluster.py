"""The real django-q2 cluster, briefly: a flow enabled in the admin gets a schedule, the cluster's scheduler
turns it into a task, a worker runs it through the runner, and a SyncRun appears.

The flow is `integrations.ping`, the health check every connector supports, against the OMS sandbox over
HTTP: a real flow and a real connector that the child process knows without any test-only code. The cluster
runs as `manage.py qcluster` in a child process against this test's database (hence transactional_db: the
child must see committed rows). django-q2 calls its scheduler every 30 seconds, so this test takes about 35.
"""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django_q.models import Schedule

from integrations.forms import flow_fields
from integrations.health import PING
from integrations.models import Channel, SyncRun
from integrations.sandbox.registry import Sandboxes
from tests.crash import database_url
from tests.integrations.test_admin_channels import change_url, form_data

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]
MANAGE = Path(settings.BASE_DIR) / "manage.py"


@pytest.fixture
def oms_sandbox():
    sandboxes = Sandboxes.start(kinds=["oms"])
    yield sandboxes
    sandboxes.stop()


@pytest.fixture
def cluster():
    """Start `manage.py qcluster` on the test database; stop it (and its workers) after the test."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "HTTP_RETRY_BACKOFF": "0.01",
        "Q_WORKERS": "1",
    }
    with tempfile.TemporaryFile() as output:
        child = subprocess.Popen(
            [sys.executable, str(MANAGE), "qcluster"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield child
        finally:
            child.send_signal(signal.SIGTERM)  # the cluster stops its own workers
            try:
                child.wait(20)
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)  # whatever of our session is still there
            output.seek(0)
            sys.stdout.write(output.read().decode(errors="replace")[-4000:])  # shown if the test failed


def wait_for(query, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = query.first()
        if found is not None and found.status != SyncRun.Status.RUNNING:
            return found
        time.sleep(0.5)
    return None


def test_flow_enabled_in_the_admin_runs_on_the_cluster(admin_client, oms_sandbox, cluster):
    values = oms_sandbox.channel_values("oms", slug="wms")
    channel = Channel.objects.create(**values)
    enabled, interval = flow_fields(PING)
    response = admin_client.post(
        change_url(channel), form_data(admin_client, channel, **{enabled: "on", interval: "1"})
    )
    assert response.status_code == 302
    assert Schedule.objects.filter(name=f"switchyard:wms:{PING}", minutes=1).exists()

    run = wait_for(SyncRun.objects.filter(channel=channel, flow=PING), seconds=90)

    assert run is not None, "the cluster ran no sync within 90 seconds"
    assert (run.status, run.trigger, run.seen, run.error) == (SyncRun.Status.OK, SyncRun.Trigger.SCHEDULE, 1, "")
    assert cluster.poll() is None  # still running: the run did not take the cluster down
