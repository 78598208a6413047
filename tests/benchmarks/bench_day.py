"""A big brand's day, end to end, through a real `manage.py qcluster`, against a bare request loop.

The world (tests/benchmarks/day_world.py): orders of 5 lines on the three sales channels' sandboxes (NuORDER,
ChannelAdvisor, Extensiv), every item listed on each of them with its stock in three warehouses, the
fulfillment system's sandbox shipping every order it receives in one or two parcels. The hub starts with its
catalog, mappings, warehouse pairings and policies in place (what catalog and warehouse downloads leave) and
every flow of the day enabled on its schedule: order download, submission, acknowledgement, shipment download
and upload, inventory download and upload.

The hub: a `manage.py qcluster` child process (ORM broker on SQLite; Redis and PostgreSQL when DATABASE_URL
names PostgreSQL) runs the real schedules. The bench plays the clock: whenever a schedule's last task has
finished, it makes the schedule due and calls django-q2's scheduler, as the cluster does every 30 seconds, so a
day of 5-minute intervals runs back to back. The hub's time ends when the last run that changed anything
finishes, once the final state is reached: every order downloaded, submitted, acknowledged (where the channel
has it), shipped in the fulfillment system and uploaded to its channel, and an inventory upload that started
after the last order moved finds nothing left to push. The final state is then checked on the sandboxes
themselves; a mismatch fails the benchmark.

The floor: every request the sandboxes received during the hub's time, recorded with its method, path, query,
headers and body, replayed in the same order by one bare `requests.Session` per server, no database, against
the same sandboxes put back in the same starting state (the warehouse thread ships again as orders arrive).
Ratio = floor seconds / hub seconds; target >= 0.7.

The queue's share: per task, the time django-q2 held it (from enqueue to the start of its run, and from the
end of its run to the worker's stop: pickling, broker round trips, waiting for a worker) over the task's whole
time from enqueue to stop. Target < 5 %.

Repeated writes: non-GET requests the sandboxes received more than once with the same method, path and body.
"""

import contextlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import closing
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from tests.benchmarks.day_world import FLOWS, SALES, DaySize, Warehouse, day_world, sandboxes_seed
from tests.benchmarks.table import BenchRow

SIZES = {"tiny": DaySize(listings=900, orders=90), "small": DaySize(10_000, 2_000), "full": DaySize(100_000, 20_000)}
TARGET = 0.7
QUEUE_TARGET = 0.05
# Seconds the hub may take before the bench gives up (BENCH_DAY_LIMIT overrides, for a loaded machine).
LIMIT = {"tiny": 120, "small": 900, "full": 3600}
# Seconds between progress lines while the hub's day runs (a long day shows where it is).
REPORT = 300
# Two (or more) clusters on the same day's work: BENCH_DAY_CLUSTERS=2 with DATABASE_URL=postgres://… (the
# final state, checked the same way, says nothing was done twice).
CLUSTERS = int(os.environ.get("BENCH_DAY_CLUSTERS", "1"))
TICK = 0.05  # how often the bench looks for schedules whose last task finished
CHUNK = "inventory.tasks.inventory_push_chunk"
ORDER_CHUNK = "orders.tasks.orders_submit_chunk"
MANAGE = Path(settings.BASE_DIR) / "manage.py"


def run(size: str) -> list[str | BenchRow]:
    from integrations.sandbox.registry import Sandboxes

    logging.getLogger("django-q").setLevel(logging.WARNING)  # this process's scheduler calls: one line each

    day = SIZES[size]
    started = time.perf_counter()
    world = day_world(day)
    sandboxes = Sandboxes.start(world=world)
    try:
        sandboxes_seed(sandboxes, day)
        channels = hub_seed(sandboxes)
        seeded = time.perf_counter() - started
        _say(f"seeded in {seeded:.1f}s; the hub's day starts")
        hub = hub_day(sandboxes, channels, day, int(os.environ.get("BENCH_DAY_LIMIT", LIMIT[size])))
        _say(f"hub done in {hub['seconds']:.1f}s; checking the final state")
        checked = final_state(sandboxes, channels, day)
        recorded = hub["recorded"]
        repeated = repeated_writes(recorded)
        _say(f"checked; the floor replays {sum(len(r) for r in recorded.values()):,} calls")
        floor = floor_day(sandboxes, day, recorded)
    finally:
        sandboxes.stop()
    db = connection.vendor
    calls = sum(len(r) for r in recorded.values())
    by_kind = ", ".join(f"{kind} {len(r):,}" for kind, r in recorded.items())
    queue = hub["queue"]
    share = queue["share"]
    return [
        f"{day.orders_per_channel * 3:,} orders x 5 lines on {', '.join(SALES)}; {day.items * 3:,} listings "
        f"({day.items:,} per channel) x 3 warehouses; seeded in {seeded:.1f}s; database {db}, broker {hub['broker']}, "
        f"{hub['workers']} workers",
        f"hub: {queue['tasks']:,} tasks ({queue['chunks']:,} inventory chunk tasks, {queue['order_chunks']:,} "
        f"submission chunk tasks), {hub['runs']:,} runs; "
        f"{calls:,} HTTP calls ({by_kind}); warehouse shipped {hub['shipped']:,} orders in {hub['parcels']:,} parcels; {hub['busy']}",
        f"final state: {checked}",
        f"queue share: {share:.1%} of the tasks' time (enqueue to stop) in django-q2: enqueue "
        f"{queue['enqueue']:.1f}s, pickup with a worker free {queue['pickup']:.1f}s (median "
        f"{queue['median_pickup'] * 1000:.0f} ms); target < {QUEUE_TARGET:.0%}"
        + ("  ABOVE TARGET" if share >= QUEUE_TARGET else "")
        + f"; waiting for a busy worker {queue['busy_share']:.1%}",
        f"repeated writes (same method, path and body received more than once): {repeated or 'none'}",
        f"floor: {floor['calls']:,} calls replayed, {floor['errors']} answered >= 400 (hub: {hub['errors']})",
        BenchRow(f"a big brand's day through {_clusters()} vs bare request loop", day.orders_per_channel * 3,
                 hub["seconds"], "orders", "bare requests.Session replay", floor["seconds"],
                 target=TARGET if size != "tiny" else None,
                 note=f"queue share {share:.1%}" + ("; tiny: the chain's latency dominates, the target is for "
                                                     "small/full" if size == "tiny" else "")),
    ]  # fmt: skip


def _clusters() -> str:
    return "qcluster" if CLUSTERS == 1 else f"{CLUSTERS} qclusters"


def _say(text: str) -> None:
    print(f"  ... {text}", flush=True)


# -- the hub's side ------------------------------------------------------------------------------------------


def hub_seed(sandboxes) -> dict:
    """Channels, catalog, mappings, warehouses (downloaded, paired), policies, and every flow's schedule."""
    from django_q.models import Schedule

    from catalog.models import Item, ItemMapping, MappingStatus
    from integrations.connectors.nuorder.parse import channel_sku
    from integrations.models import Channel, SyncRun
    from inventory.models import ChannelWarehouse, InventoryPolicy, Warehouse, WarehousePairing

    world = sandboxes.world
    oms = Channel.objects.create(**_values(sandboxes, "oms"))
    items = Item.objects.bulk_create(
        [
            Item(sku=w.sku, item_number=w.item_number, color_code=w.color_code, prepack_run=w.prepack_run,
                 size=w.size, upc=w.upc, description=w.description)
            for w in world.items
        ],
        batch_size=2000,
    )  # fmt: skip
    by_sku = {item.sku: item for item in items}
    by_upc = {item.upc: item for item in items}
    channels = {"oms": oms}
    _flow(oms, "warehouses.download")
    for kind in SALES:
        channel = Channel.objects.create(**_values(sandboxes, kind), fulfillment=oms)
        channels[kind] = channel
        _flow(channel, "warehouses.download")
        InventoryPolicy.objects.create(channel=channel)
        if kind == "nuorder":
            for external_id, code in (("default", "MAIN"), ("east", "EAST")):
                WarehousePairing.objects.get_or_create(
                    channel_warehouse=ChannelWarehouse.objects.get(channel=channel, external_id=external_id),
                    warehouse=Warehouse.objects.get(code=code),
                )
            mappings = [
                ItemMapping(channel=channel, channel_sku=channel_sku(p["style_number"], p.get("color", ""),
                            size["size"], size["upc"]), channel_product_id=p["_id"], channel_upc=size["upc"],
                            item=by_upc[size["upc"]], status=MappingStatus.MAPPED, method="upc")
                for p in sandboxes.api(kind).products.values()
                for size in p["sizes"]
                if size["upc"] in by_upc
            ]  # fmt: skip
        else:
            mappings = [
                ItemMapping(channel=channel, channel_sku=lst.sku, channel_product_id=str(lst.product_id),
                            item=by_sku[lst.item_sku], status=MappingStatus.MAPPED, method="sku_pattern")
                for lst in world.listings
            ]  # fmt: skip
        ItemMapping.objects.bulk_create(mappings, batch_size=2000)
        if not WarehousePairing.objects.filter(channel_warehouse__channel=channel).exists():
            raise AssertionError(f"{kind}: no channel warehouse paired after warehouses.download")
    for kind, channel in channels.items():
        channel.flow_settings = {}
        for flow in FLOWS[kind]:
            channel.set_flow(flow, enabled=True, interval=1)
        channel.save()  # its schedules follow (integrations/signals.py)
    # Only the day's flows: anything else (the health checks) waits a day.
    names = [f"switchyard:{c.slug}:{flow}" for kind, c in channels.items() for flow in FLOWS[kind]]
    Schedule.objects.exclude(name__in=names).update(next_run=timezone.now() + timedelta(days=1))
    Schedule.objects.filter(name__in=names).update(next_run=timezone.now() + timedelta(days=1))
    SyncRun.objects.all().delete()
    assert Schedule.objects.filter(name__in=names).count() == len(names)
    return channels


def _values(sandboxes, kind: str) -> dict:
    """The channel pointed at its sandbox, its client-side rate limit off: the floor has none, and what a limit
    costs is plain arithmetic (calls / rate), not the hub's work."""
    values = sandboxes.channel_values(kind, slug=f"day-{kind}")
    values["settings"] = {**values["settings"], "requests_per_second": 0}
    return values


def _flow(channel, flow: str) -> None:
    from integrations.models import SyncRun
    from integrations.runner import flow_run

    run = flow_run(channel=channel, flow=flow, trigger=SyncRun.Trigger.MANUAL)
    if run.status not in (SyncRun.Status.OK, SyncRun.Status.PARTIAL):
        raise AssertionError(f"{channel.slug} {flow}: {run.status} {run.error}")


def _cluster_env() -> tuple[dict[str, str], str]:
    from tests.crash import database_url

    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "Q_WORKERS": os.environ.get("BENCH_DAY_WORKERS", str(max(2, 2 * (os.cpu_count() or 1)))),
        "HTTP_RETRY_BACKOFF": "0.05",
    }
    env.pop("REDIS_URL", None)
    broker = "ORM"
    if connection.vendor == "postgresql":
        # Its own Redis database: the bench purges the queue it is given, so two benches on one machine each
        # name theirs (BENCH_REDIS_URL, else REDIS_URL).
        env["REDIS_URL"] = (
            os.environ.get("BENCH_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/11"
        )
        broker = "Redis"
    return env, broker


def _broker(env: dict[str, str]):
    """This process's broker: the cluster's (Redis when the child is given REDIS_URL)."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf

    if "REDIS_URL" in env:
        Conf.ORM, Conf.REDIS = None, env["REDIS_URL"]
        broker = get_broker()
        broker.purge_queue()
        return broker
    return get_broker()


@contextlib.contextmanager
def cluster(env: dict[str, str]):
    with tempfile.TemporaryFile() as output:
        child = subprocess.Popen(
            [sys.executable, str(MANAGE), "qcluster"], env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            yield child
        finally:
            child.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(30)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            output.seek(0)
            said = output.read().decode(errors="replace")
            if log := os.environ.get("BENCH_DAY_LOG"):
                Path(log).write_text(said)
            errors = [line for line in said.splitlines() if "ERROR" in line]
            if errors:
                print("  qcluster said:\n    " + "\n    ".join(errors[-10:]), flush=True)


def hub_day(sandboxes, channels: dict, day: DaySize, limit: float) -> dict:
    from django_q.models import Schedule, Task
    from django_q.scheduler import scheduler

    from integrations.models import SyncRun

    names = [f"switchyard:{c.slug}:{flow}" for kind, c in channels.items() for flow in FLOWS[kind]]
    schedule_ids = list(Schedule.objects.filter(name__in=names).values_list("pk", flat=True))
    env, broker_name = _cluster_env()
    broker = _broker(env)
    for server in sandboxes.servers.values():
        server.api.recording = []
    warehouse = Warehouse(sandboxes.api("oms")).start()
    fired: Counter = Counter()
    enqueue_seconds = 0.0
    try:
        with contextlib.ExitStack() as stack:
            children = [stack.enter_context(cluster(env)) for _ in range(CLUSTERS)]
            began = timezone.now()
            began_mono = time.monotonic()
            cpu_began = _machine_cpu()
            parts_began = _cpu_parts([child.pid for child in children])
            orders_done = None
            next_check = 0.0
            next_report = began_mono + REPORT
            while True:
                if any(child.poll() is not None for child in children):
                    raise AssertionError("a cluster exited")
                now = time.monotonic()
                if now - began_mono > limit:
                    raise AssertionError(
                        f"the day was not done within {limit} s: {_progress(channels, day, orders_done)}"
                    )
                rows = list(Schedule.objects.filter(pk__in=schedule_ids).values_list("pk", "task"))
                finished = set(Task.objects.filter(id__in=[t for _, t in rows if t]).values_list("id", flat=True))
                due = [pk for pk, task in rows if not task or task in finished]
                if due:
                    Schedule.objects.filter(pk__in=due).update(next_run=timezone.now() - timedelta(seconds=1))
                    queued = time.perf_counter()
                    scheduler(broker=broker)
                    enqueue_seconds += time.perf_counter() - queued
                    fired.update(due)
                if now >= next_report:
                    next_report = now + REPORT
                    _say(f"{now - began_mono:.0f}s: {_progress(channels, day, orders_done)}")
                if now >= next_check:
                    next_check = now + 0.5
                    if orders_done is None and _orders_done(channels, day):
                        orders_done = timezone.now()
                    if orders_done is not None and _inventory_done(channels, orders_done):
                        break
                time.sleep(TICK)
            ended = _last_change(channels, began)
            cpu_ended = _machine_cpu()
            parts_ended = _cpu_parts([child.pid for child in children])
            # Wait for what is still running (the confirming runs) so the cluster stops cleanly.
            deadline = time.monotonic() + 60
            while SyncRun.objects.filter(status=SyncRun.Status.RUNNING).exists() and time.monotonic() < deadline:
                time.sleep(0.2)
    finally:
        warehouse.close()
        for server in sandboxes.servers.values():
            server.api.recording, recorded = None, server.api.recording
            server.recorded = recorded
    end_mono = began_mono + (ended - began).total_seconds()
    recorded = {kind: [r for r in server.recorded if r.at <= end_mono] for kind, server in sandboxes.servers.items()}
    errors = sum(
        1 for server in sandboxes.servers.values() for r in server.api.journal if r.status is None or r.status >= 400
    )
    queue = _queue_share(began, ended, CLUSTERS * int(env["Q_WORKERS"]), enqueue_seconds)
    return {
        "seconds": (ended - began).total_seconds(),
        "recorded": recorded,
        "queue": queue,
        "runs": SyncRun.objects.filter(started_at__gte=began, started_at__lte=ended).count(),
        "broker": broker_name,
        "workers": f"{CLUSTERS} cluster(s) of {env['Q_WORKERS']}",
        "shipped": warehouse.shipped,
        "parcels": warehouse.parcels,
        "errors": errors,
        "busy": f"{_busy_cores(cpu_began, cpu_ended)}; {_cpu_split(parts_began, parts_ended)}",
    }


def _machine_cpu() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine so far — the clusters, the sandbox, PostgreSQL and Redis
    alike — from /proc/stat; None where there is none."""
    try:
        fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return None
    idle = fields[3] + fields[4]  # idle, iowait
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / ticks, sum(fields) / ticks


def _cpu_parts(clusters: list[int]) -> Counter:
    """CPU seconds so far of each part of the day: the clusters (their sessions), this process (the bench's
    clock and the sandboxes' threads), PostgreSQL, Redis; a dead process counts in the parent that reaped it."""
    ticks = os.sysconf("SC_CLK_TCK")
    parts: Counter = Counter()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()  # from field 3 (state) on
        pid, session = int(stat.parent.name), int(fields[3])
        if session in clusters:
            part = "clusters"
        elif pid == os.getpid():
            part = "bench and sandboxes"
        elif comm.startswith("postgres"):
            part = "PostgreSQL"
        elif comm.startswith("redis-server"):
            part = "Redis"
        else:
            continue
        parts[part] += sum(int(n) for n in fields[11:15]) / ticks  # utime, stime, cutime, cstime
    return parts


def _cpu_split(began: Counter, ended: Counter) -> str:
    used = ended - began
    return "CPU " + ", ".join(f"{part} {seconds:.0f}s" for part, seconds in used.most_common())


def _busy_cores(began: tuple[float, float] | None, ended: tuple[float, float] | None) -> str:
    """How many of the machine's cores were busy during the hub's day: near all of them means one more
    cluster has nothing to run on."""
    if began is None or ended is None or ended[1] <= began[1]:
        return "machine CPU not measured"
    cores = os.cpu_count() or 1
    busy = (ended[0] - began[0]) / (ended[1] - began[1]) * cores
    return f"machine CPU busy {busy:.2f} of {cores} cores"


def _orders_done(channels: dict, day: DaySize) -> bool:
    from orders.models import Order, OrderStatus, ShipmentUpload, UploadState

    sales = [channels[kind] for kind in SALES]
    total = day.orders_per_channel * len(SALES)
    orders = Order.objects.filter(channel__in=sales)
    if orders.filter(status=OrderStatus.SHIPPED).count() < total:
        return False
    if orders.filter(channel__kind__in=["channeladvisor", "nuorder"], acknowledged_at__isnull=True).exists():
        return False
    uploads = ShipmentUpload.objects.filter(channel__in=sales)
    return uploads.exists() and not uploads.exclude(state=UploadState.SENT).exists()


def _inventory_done(channels: dict, since) -> bool:
    """Each sales channel had an inventory upload that started after the orders were done and found nothing
    to push, and no push is unsettled."""
    from integrations.models import SyncRun
    from inventory.models import PushIntent

    if PushIntent.objects.filter(state__in=PushIntent.UNSETTLED).exists():
        return False
    for kind in SALES:
        quiet = SyncRun.objects.filter(
            channel=channels[kind], flow="inventory.upload", started_at__gt=since, status=SyncRun.Status.OK,
            seen__gt=0, created=0, updated=0, failed=0, unknown=0,
        ).exclude(note__contains="chunk")  # fmt: skip
        if not quiet.exists():
            return False
    return True


def _last_change(channels: dict, began):
    """When the last run that changed anything finished (the runs after it only confirmed there was nothing)."""
    from django.db.models import Max, Q

    from integrations.models import SyncRun

    changed = SyncRun.objects.filter(started_at__gte=began).filter(Q(created__gt=0) | Q(updated__gt=0))
    return changed.aggregate(last=Max("finished_at"))["last"] or timezone.now()


def _progress(channels: dict, day: DaySize, orders_done) -> str:
    """Every done condition with how far it got, so a day that runs out of time says which one it missed."""
    from integrations.models import SyncRun
    from inventory.models import PushIntent
    from orders.models import Order, ShipmentUpload

    sales = [channels[kind] for kind in SALES]
    counts = Counter(Order.objects.filter(channel__in=sales).values_list("status", flat=True))
    unacknowledged = Order.objects.filter(
        channel__kind__in=["channeladvisor", "nuorder"], acknowledged_at__isnull=True
    ).count()
    uploads = Counter(ShipmentUpload.objects.filter(channel__in=sales).values_list("state", flat=True))
    unsettled = PushIntent.objects.filter(state__in=PushIntent.UNSETTLED).count()
    parts = [
        f"orders {dict(counts)} of {day.orders_per_channel * 3}",
        f"not acknowledged {unacknowledged}",
        f"shipment uploads {dict(uploads)}",
        f"unsettled pushes {unsettled}",
    ]
    if orders_done is None:
        parts.append("orders not done, so no quiet inventory upload was looked for")
    else:
        last = {
            kind: SyncRun.objects.filter(channel=channels[kind], flow="inventory.upload", started_at__gt=orders_done)
            .exclude(note__contains="chunk")
            .order_by("-started_at")
            .values("status", "seen", "created", "updated", "failed", "unknown")
            .first()
            for kind in SALES
        }
        parts.append(f"orders done at {orders_done:%H:%M:%S}; last inventory upload since: {last}")
    return "; ".join(parts)


def _queue_share(began, ended, workers: int, enqueue_seconds: float) -> dict:
    """How the tasks' time from enqueue to stop divides: django-q2's own (enqueue: the scheduler's calls, timed
    here; pickup: the wait before a run started while a worker was free, i.e. polling, the pusher, pickling),
    the wait for a busy worker, and the run itself (from its start to the worker's stop).

    Which worker ran what is not recorded, so the pickup wait is replayed: tasks in the order their runs
    started, each taken by the worker free the longest; its wait is from when both it was queued and that
    worker was free to the run's start."""
    import heapq

    from django_q.models import Task

    from integrations.models import SyncRun
    from integrations.queue import RUN_FLOW

    tasks = list(Task.objects.filter(started__gte=began, stopped__lte=ended, func__in=[RUN_FLOW, CHUNK, ORDER_CHUNK]))
    run_ids = [t.result.get("run") for t in tasks if isinstance(t.result, dict) and t.result.get("run")]
    runs = {r.pk: r for r in SyncRun.objects.filter(pk__in=run_ids).only("started_at", "finished_at")}
    timed = []
    for task in tasks:
        run = runs.get(task.result.get("run")) if isinstance(task.result, dict) else None
        if run is not None:
            timed.append((run.started_at, task))
    timed.sort(key=lambda pair: pair[0])
    free = [began] * workers
    pickup = busy = whole = 0.0
    waits = []
    for run_started, task in timed:
        worker_free = heapq.heappop(free)
        ready = max(task.started, worker_free)
        own = max(0.0, (run_started - ready).total_seconds())
        waited = max(0.0, (run_started - task.started).total_seconds())
        pickup += own
        busy += waited - own
        whole += (task.stopped - task.started).total_seconds()
        waits.append(own)
        heapq.heappush(free, max(task.stopped, run_started))
    waits.sort()
    held = pickup + enqueue_seconds
    return {
        "share": held / whole if whole else 0.0,
        "busy_share": busy / whole if whole else 0.0,
        "median_pickup": waits[len(waits) // 2] if waits else 0.0,
        "enqueue": enqueue_seconds,
        "pickup": pickup,
        "tasks": len(tasks),
        "chunks": sum(1 for t in tasks if t.func == CHUNK),
        "order_chunks": sum(1 for t in tasks if t.func == ORDER_CHUNK),
    }


# -- the final state ------------------------------------------------------------------------------------------


def final_state(sandboxes, channels: dict, day: DaySize) -> str:
    """Every order shipped on its channel and in the fulfillment system once, every quantity the hub computes
    pushed and held by the channel. Raises on the first mismatch."""
    from integrations.connectors import connector_for
    from integrations.flows import RunReport
    from inventory.ledger import channel_quantities, ledger_for
    from inventory.models import PushLedger
    from inventory.policies import policy_rules
    from inventory.quantities import quantities_compute
    from inventory.upload import changes_diff

    per_channel = day.orders_per_channel
    total = per_channel * len(SALES)
    oms = sandboxes.api("oms")
    references = Counter(o["reference"] for o in oms.orders.values())
    problems = []
    if len(oms.orders) != total or max(references.values()) != 1:
        problems.append(f"fulfillment system holds {len(oms.orders)} orders for {len(references)} references")
    unshipped = [n for n, o in oms.orders.items() if o["status"] != "shipped"]
    if unshipped:
        problems.append(f"{len(unshipped)} orders not shipped in the fulfillment system")
    ca = sandboxes.api("channeladvisor")
    short = [
        o["ID"]
        for o in ca.orders.values()
        if any(ca.shipped_quantity(o["ID"], item["ID"]) != item["Quantity"] for item in o["Items"])
    ]
    if len(ca.orders) != per_channel or short:
        problems.append(f"channeladvisor: {len(short)} of {len(ca.orders)} orders not shipped exactly once")
    nu = sandboxes.api("nuorder")
    not_shipped = [o["order_number"] for o in nu.orders.values() if o.get("status") != "shipped"]
    if len(nu.orders) != per_channel or not_shipped:
        problems.append(f"nuorder: {len(not_shipped)} of {len(nu.orders)} orders not marked shipped")
    ex = sandboxes.api("extensiv")
    entries = [u.get("shipments") for u in ex.uploads if isinstance(u, dict)]
    entries = [e for entry in entries for e in (entry if isinstance(entry, list) else [entry]) if isinstance(e, dict)]
    uploaded = Counter(e.get("orderId") for e in entries)
    missing = [order_id for order_id in ex.orders if order_id not in uploaded]
    if len(ex.orders) != per_channel or missing:
        problems.append(f"extensiv: {len(missing)} of {len(ex.orders)} orders without a shipment upload")
    pushed = 0
    for kind in SALES:
        channel = channels[kind]
        rules = policy_rules(channel.inventory_policy)
        changes, unknown, _ = changes_diff(
            quantities_compute(rules=rules), ledger_for(channel_id=channel.pk), set(), RunReport("check")
        )
        if changes or unknown:
            problems.append(f"{kind}: {len(changes) + len(unknown)} quantities not pushed")
        rows = PushLedger.objects.filter(mapping__channel=channel)
        ledger = {(m, w): q for m, w, q in rows.values_list("mapping_id", "channel_warehouse_id", "quantity")}
        with closing(connector_for(channel)) as connector:
            found = channel_quantities(connector=connector, channel_id=channel.pk)
        wrong = sum(1 for key, quantity in ledger.items() if found.get(key) != quantity)
        if not ledger or wrong:
            problems.append(f"{kind}: {wrong} of {len(ledger)} pushed quantities not held by the channel")
        pushed += len(ledger)
    if problems:
        raise AssertionError("final state wrong: " + "; ".join(problems))
    return (
        f"ok: {total:,} orders shipped once in the fulfillment system and on their channels, "
        f"{pushed:,} quantities pushed and held by the channels"
    )


def repeated_writes(recorded: dict) -> str:
    """Writes (not GET) received again with the same method, path and body. Back-to-back ones (no other body
    sent to that path in between) are duplicates; the rest set a value that came back (a quantity that fell
    while an order was open and rose again once it shipped: the sandbox's stock does not move)."""
    found = []
    for kind, calls in recorded.items():
        last: dict[tuple[str, str], bytes] = {}
        seen: set[tuple[str, str, bytes]] = set()
        again: Counter = Counter()
        returned = 0
        for r in calls:
            if r.method == "GET":
                continue
            key = (r.method, r.target.split("?")[0])
            if (r.method, r.target, r.body) in seen:
                if last.get(key) == r.body:
                    again[f"{key[0]} {_shape(key[1])}"] += 1
                else:
                    returned += 1
            seen.add((r.method, r.target, r.body))
            last[key] = r.body
        if again or returned:
            text = f"{kind}: {sum(again.values())} back to back"
            text += f" ({', '.join(f'{p} x{n}' for p, n in again.most_common(3))})" if again else ""
            found.append(text + f", {returned} setting a value that came back")
    return "; ".join(found)


def _shape(path: str) -> str:
    """The path with its IDs as {id}: /v1/Orders({id})/Ship."""
    import re

    return re.sub(r"\d+|[0-9a-f]{24}", "{id}", path)


# -- the floor ------------------------------------------------------------------------------------------------


def floor_day(sandboxes, day: DaySize, recorded: dict) -> dict:
    """The same requests, in the same order, by a bare requests.Session per server in a child process (no
    Django, no database: tests/benchmarks/day_floor.py), against the sandboxes back in their starting state."""
    import json
    import pickle

    ca = sandboxes.api("channeladvisor")
    tokens = dict(ca.tokens)
    sandboxes_seed(sandboxes, day)
    ca.tokens.update(tokens)  # the recorded calls carry the hub's access tokens
    sandboxes.api("nuorder").max_skew = 10**6  # and the hub's signatures, made up to the day's length ago
    merged = sorted(((r.at, kind, r) for kind, rs in recorded.items() for r in rs), key=lambda c: c[0])
    calls = [(kind, r.method, r.target, r.headers, r.body) for _, kind, r in merged]
    bases = {kind: server.url.rstrip("/") for kind, server in sandboxes.servers.items()}
    warehouse = Warehouse(sandboxes.api("oms")).start()
    with tempfile.TemporaryDirectory() as folder:
        given, answer = Path(folder) / "calls.pickle", Path(folder) / "answer.json"
        given.write_bytes(pickle.dumps({"bases": bases, "calls": calls}))
        try:
            command = [sys.executable, "-m", "tests.benchmarks.day_floor", str(given), str(answer)]
            subprocess.run(command, check=True, cwd=settings.BASE_DIR, timeout=3600)
        finally:
            warehouse.close()
        return json.loads(answer.read_text())
