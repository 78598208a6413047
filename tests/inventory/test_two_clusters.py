"""Two `qcluster` processes with the same schedules, on PostgreSQL and a Redis broker, for one scheduler tick.

Both clusters' schedulers wake about 30 seconds after they start, at nearly the same moment, and race for the
same due schedules; their workers then share the tasks, including the chunk tasks of a fanned-out inventory
push and order submission. Afterwards: every schedule fired once (one task, its next run moved by one
interval), every flow ran once (no run skipped as busy; a fanned-out flow's chunks each a run of their own),
nothing reached the fulfillment system or a channel twice (the sandboxes' own state and journal), and chunks
of one push were sent by workers of both clusters (the outbox names each sender).

The Redis server is this test's own, on a free port, so no other suite or cluster shares its queue. About 45 s.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_q.models import Schedule, Task

from integrations.connectors import connector_for
from integrations.models import HEALTH_CHECK_FLOW, Channel, SyncRun
from integrations.runner import BUSY
from inventory.ledger import channel_quantities
from inventory.models import PushIntent, PushLedger
from orders.models import Order, OrderStatus, Shipment
from tests.crash import MANAGE, database_url
from tests.inventory.conftest import run

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
CHUNK = "inventory.tasks.inventory_push_chunk"
ORDER_CHUNK = "orders.tasks.orders_submit_chunk"
FLOWS = {
    "oms": ["inventory.download", "orders.submit", "shipments.download"],
    "channeladvisor": ["orders.download", "inventory.upload", "shipments.upload"],
    "nuorder": ["orders.download", "inventory.upload", "shipments.upload"],
}
WAIT = 75  # seconds for the tick (30 s after start) and the work it queues


@pytest.fixture
def redis_url():
    """A Redis server of this test's own on a free port, keeping nothing on disk."""
    server = shutil.which("redis-server")
    if server is None:
        reason = "redis-server is not installed (Debian's redis-server package)"
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI must run the two-cluster test on PostgreSQL, not skip it
        pytest.skip(reason)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.1):
                break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


@contextlib.contextmanager
def clusters(count: int, env: dict[str, str]):
    """Start `count` `manage.py qcluster` processes; stop them (and their workers) when done."""
    with contextlib.ExitStack() as stack:
        outputs = [stack.enter_context(tempfile.TemporaryFile()) for _ in range(count)]
        children = []
        try:
            for output in outputs:
                command = [sys.executable, str(MANAGE), "qcluster"]
                children.append(
                    subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
                )
            yield children
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)  # a cluster stops its own workers
            for child, output in zip(children, outputs, strict=False):
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(20)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)  # whatever of its session is still there
                child.wait()
                output.seek(0)
                sys.stdout.write(output.read().decode(errors="replace")[-3000:])  # shown if the test failed


def descendants(pid: int) -> set[int]:
    """The processes under `pid` (a cluster's sentinel, workers, monitor and pusher)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def settled(schedules: list[str]) -> bool:
    fired = set(Task.objects.filter(group__in=schedules).values_list("group", flat=True))
    return (
        fired == set(schedules)
        and not SyncRun.objects.filter(status=SyncRun.Status.RUNNING).exists()
        and not PushIntent.objects.filter(state__in=PushIntent.UNSETTLED).exists()
        and not Order.objects.exclude(submitting_at=None).exists()  # a submission chunk still queued or sending
    )


def test_two_clusters_share_the_work_and_do_nothing_twice(sandbox, sales, oms, redis_url):
    ca = sales("channeladvisor", push_mode="relative")
    nuorder = sales("nuorder")
    # NuORDER's orders are in the fulfillment system and shipped there, half of them downloaded as shipments:
    # the tick uploads those and downloads the rest. ChannelAdvisor's orders are downloaded, not yet submitted.
    run(nuorder, "orders.download")
    run(oms, "orders.submit")
    run(ca, "orders.download")
    nuorder_orders = list(Order.objects.filter(channel=nuorder, status=OrderStatus.SUBMITTED))
    ca_waiting = Order.objects.filter(channel=ca, status=OrderStatus.DOWNLOADED).count()
    assert len(nuorder_orders) >= 2 and ca_waiting, "the seeded world needs orders on both channels"
    api = sandbox.api("oms")
    for order in nuorder_orders[: len(nuorder_orders) // 2]:
        api.ship(order.fulfillment_number)
    run(oms, "shipments.download")
    for order in nuorder_orders[len(nuorder_orders) // 2 :]:
        api.ship(order.fulfillment_number)
    submitted_before = api.submits

    for channel in (oms, ca, nuorder):
        channel.flow_settings = {}
        for flow in FLOWS[channel.kind]:
            channel.set_flow(flow, enabled=True, interval=1)
        channel.save()  # its schedules follow (integrations/signals.py)
    Schedule.objects.update(next_run=timezone.now())
    schedules = dict(Schedule.objects.values_list("name", "next_run"))
    assert len(schedules) == sum(len(flows) + 1 for flows in FLOWS.values())  # each channel's health check too
    for server in sandbox.servers.values():
        server.api.calls.clear()

    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "Q_WORKERS": "2",
        "HTTP_RETRY_BACKOFF": "0.01",
        "INVENTORY_FANOUT_LISTINGS": "4",  # every upload fans out, in chunks of 4 listings
        "INVENTORY_CHUNK_LISTINGS": "4",
        "ORDERS_SUBMIT_FANOUT": "1",  # and every submission, in chunks of 2 orders
        "ORDERS_SUBMIT_CHUNK": "2",
    }
    with clusters(2, env) as children:
        deadline = time.monotonic() + WAIT
        while not settled(list(schedules)) and time.monotonic() < deadline:
            assert all(child.poll() is None for child in children), "a cluster exited"
            time.sleep(0.5)
        trees = [descendants(child.pid) for child in children]
    assert settled(list(schedules)), f"the clusters did not finish the tick's work within {WAIT} s"

    # Every due schedule fired once: one task each, the next run one interval on.
    fired = Counter(Task.objects.filter(group__in=schedules).values_list("group", flat=True))
    assert fired == Counter(dict.fromkeys(schedules, 1))
    for name, next_run, minutes in Schedule.objects.values_list("name", "next_run", "minutes"):
        assert next_run == schedules[name] + timedelta(minutes=minutes), name
    # Every flow ran once (an upload's chunks each record a run of their own), never finding itself busy.
    runs = SyncRun.objects.filter(trigger=SyncRun.Trigger.SCHEDULE)
    assert not runs.filter(error=BUSY).exists()
    assert not runs.filter(status=SyncRun.Status.FAILED).exists(), list(runs.values_list("flow", "error"))
    fanned = ("inventory.upload", "orders.submit")
    per_flow = Counter(runs.exclude(flow__in=fanned).values_list("channel__kind", "flow"))
    expected = {(kind, flow) for kind, flows in FLOWS.items() for flow in [*flows, HEALTH_CHECK_FLOW]}
    assert per_flow == Counter({key: 1 for key in expected if key[1] not in fanned})
    submissions = runs.filter(flow="orders.submit")
    assert submissions.filter(note__contains="chunk task").count() == 1  # the submission fanned out...
    order_chunks = Task.objects.filter(func=ORDER_CHUNK, success=True).count()
    assert order_chunks == -(-ca_waiting // 2) and submissions.count() == 1 + order_chunks  # ...a run per chunk
    uploads = runs.filter(flow="inventory.upload")
    assert uploads.filter(note__contains="chunk task").count() == 2  # one upload per channel, fanned out...
    chunks = Task.objects.filter(func=CHUNK, success=True).count()
    assert chunks > 2 and uploads.count() == 2 + chunks  # ...and a run per chunk task, each once

    # Nothing twice on the other side.
    assert api.submits - submitted_before == ca_waiting  # each waiting order created once in the warehouse
    assert len({o["idempotency_key"] for o in api.orders.values()}) == len(api.orders)
    assert Order.objects.filter(channel=ca, status=OrderStatus.SUBMITTED).count() == ca_waiting
    nu_api = sandbox.api("nuorder")
    for order in nuorder_orders:
        held = nu_api.orders[order.external_id]["shipments"]
        assert len(held) == Shipment.objects.filter(order=order).count(), order.external_id
    for channel in (ca, nuorder):  # each adjustment applied once: the channel holds what the ledger says
        rows = PushLedger.objects.filter(mapping__channel=channel)
        ledger = {(m, w): q for m, w, q in rows.values_list("mapping_id", "channel_warehouse_id", "quantity")}
        with closing(connector_for(channel)) as connector:
            found = channel_quantities(connector=connector, channel_id=channel.pk)
        assert ledger and {key: q for key, q in found.items() if key in ledger} == ledger
    assert not PushIntent.objects.filter(attempts__gt=1).exists()

    # The fanned-out pushes were shared: chunks claimed by workers of both clusters.
    senders = {int(h.split(":")[1]) for h in PushIntent.objects.values_list("claimed_by", flat=True).distinct()}
    assert all(senders & tree for tree in trees), (senders, trees)
    assert Channel.objects.count() == 3
