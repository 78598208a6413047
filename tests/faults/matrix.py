"""The fault matrix: every side effect of every registered flow x every fault the sandbox offers.

For each flow, the walk (world.py) stops before it; each cell starts from that snapshot, runs the flow with the
fault on its side effect's calls, clears the fault, runs it again, and compares with two clean runs from the same
snapshot: the other side's state (nothing lost, nothing done twice), the hub's rows, and the run history.
"""

from dataclasses import dataclass, field

from integrations.models import SyncIssue, SyncRun
from integrations.runner import flow_run
from integrations.sandbox.registry import Sandboxes
from tests.faults import world
from tests.history import unqueued_failures

READ_TIMEOUT = 0.25  # seconds: HTTP_READ_TIMEOUT in the test; a timeout fault waits longer than this
MANY = 10_000  # a fault that lasts the whole first run


@dataclass(frozen=True)
class Effect:
    """One call a flow makes on one side: the fault goes to every call matching `method` + `path`."""

    label: str
    side: str  # the sandbox kind the call goes to
    method: str
    path: str | None = None  # a regular expression searched in the path; None: every call of the method


@dataclass(frozen=True)
class Fault:
    name: str
    kind: str
    options: dict = field(default_factory=dict)
    benign: bool = False  # the flow should do its work in spite of it (a slow answer)


FAULTS = (
    Fault("429+Retry-After", "status", {"status": 429, "retry_after": 0.02}),
    Fault("429", "status", {"status": 429}),
    Fault("500", "status", {"status": 500}),
    Fault("503", "status", {"status": 503}),
    Fault("slow", "slow", {"delay": READ_TIMEOUT / 5}, benign=True),
    Fault("timeout", "timeout", {"delay": READ_TIMEOUT + 0.1}),
    Fault("drop", "drop"),
    Fault("drop-after", "drop_after"),
    Fault("malformed", "malformed"),
    Fault("expired-token", "expired_token"),
)
FAST_FAULTS = ("500", "timeout", "drop-after", "malformed", "expired-token")


def read(kind: str) -> Effect:
    return Effect("read", kind, "GET")


# Every (connector kind, flow) the registry says it runs, with the side effects to fault. A flow the registry
# gains and this table lacks fails the matrix test: say here which calls it makes.
EFFECTS: dict[tuple[str, str], tuple[Effect, ...]] = {
    **{(kind, "warehouses.download"): (read(kind),) for kind in ("oms", "channeladvisor", "extensiv")},
    # NuORDER has no warehouse endpoint: its warehouses come from the channel's settings and the orders' lines,
    # so the flow makes no call to fault.
    ("nuorder", "warehouses.download"): (),
    **{(kind, "integrations.ping"): (read(kind),) for kind in ("oms", "channeladvisor", "nuorder", "extensiv")},
    **{(kind, "catalog.download"): (read(kind),) for kind in ("oms", "channeladvisor", "extensiv")},
    **{(kind, "orders.download"): (read(kind),) for kind in ("channeladvisor", "nuorder", "extensiv")},
    **{(kind, "inventory.reconcile"): (read(kind),) for kind in ("channeladvisor", "nuorder", "extensiv")},
    **{
        (kind, "cancellations.download"): (read(kind), Effect("delete submitted order", "oms", "DELETE"))
        for kind in ("channeladvisor", "nuorder", "extensiv")
    },
    ("oms", "shipments.download"): (read("oms"),),
    ("oms", "inventory.download"): (read("oms"),),
    ("oms", "orders.submit"): (Effect("create order", "oms", "POST", r"/orders$"),),
    ("nuorder", "catalog.upload"): (Effect("put product", "nuorder", "PUT", r"/product/"),),
    ("nuorder", "customers.upload"): (Effect("put company", "nuorder", "PUT", r"/company/"),),
    ("channeladvisor", "orders.acknowledge"): (Effect("export", "channeladvisor", "POST", r"/Export$"),),
    ("nuorder", "orders.acknowledge"): (
        Effect("mark processed", "nuorder", "POST", r"/processed$"),
        Effect("set order number", "nuorder", "POST", r"/api/order/[^/]+$"),
    ),
    ("channeladvisor", "shipments.upload"): (Effect("ship", "channeladvisor", "POST", r"/Ship$"),),
    ("nuorder", "shipments.upload"): (
        Effect("add shipment", "nuorder", "POST", r"/api/order/[^/]+$"),
        Effect("mark shipped", "nuorder", "POST", r"/shipped$"),
    ),
    ("extensiv", "shipments.upload"): (Effect("confirm shipment", "extensiv", "PUT", r"/shipment/external$"),),
    ("channeladvisor", "inventory.upload"): (Effect("update quantity", "channeladvisor", "POST", r"/UpdateQuantity$"),),
    ("nuorder", "inventory.upload"): (Effect("post inventory", "nuorder", "POST", r"/inventory/"),),
    ("extensiv", "inventory.upload"): (Effect("adjust", "extensiv", "POST", r"/inventory/adjust$"),),
}


@dataclass
class Cell:
    row: str
    fault: str
    outcome: str  # what the table shows
    problems: list[str] = field(default_factory=list)


@dataclass
class Matrix:
    faults: tuple[Fault, ...]
    cells: list[Cell] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [f"{c.row} x {c.fault}: {p}" for c in self.cells for p in c.problems]

    def table(self) -> str:
        rows = list(dict.fromkeys(c.row for c in self.cells))
        by = {(c.row, c.fault): c.outcome for c in self.cells}
        width = max(len(r) for r in rows)
        cols = [f.name for f in self.faults]
        sizes = [max(len(name), *(len(by.get((r, name), "")) for r in rows)) for name in cols]
        lines = [" | ".join([" " * width, *(n.ljust(s) for n, s in zip(cols, sizes, strict=True))])]
        lines.append("-+-".join(["-" * width, *("-" * s for s in sizes)]))
        for r in rows:
            lines.append(
                " | ".join([r.ljust(width), *(by.get((r, n), "").ljust(s) for n, s in zip(cols, sizes, strict=True))])
            )
        lines.append(
            "cell: the faulted run's status → the status of the run after the fault cleared. +N: calls the other "
            "side processed beyond two clean runs (re-sends it de-duplicated, or that set the same value again); "
            "its state matching two clean runs proves none was applied twice. ✗: a problem, listed below."
        )
        return "\n".join(lines)


def run(channel, flow: str) -> SyncRun:
    return flow_run(channel=channel, flow=flow, trigger=SyncRun.Trigger.MANUAL)


def matrix_walk(sandboxes: Sandboxes, faults: tuple[Fault, ...]) -> Matrix:
    """Walk every registered flow in dependency order and run its cells; the world moves on by a clean run."""
    matrix = Matrix(faults)
    channels = world.channels_setup(sandboxes)
    for channel in channels:
        if channel.kind == "nuorder":  # its conservative default waits 0.2 s a call; the sandbox needs none
            channel.settings = {**channel.settings, "requests_per_second": 0}
            channel.save(update_fields=["settings"])
    for flow in world.walk_order():
        world.stage(flow, sandboxes, channels)
        for channel in world.channels_for(channels, flow):
            effects = EFFECTS.get((channel.kind, flow))
            if effects is None:
                matrix.cells.append(Cell(f"{channel.kind} {flow}", "-", "✗", ["no side effects declared in EFFECTS"]))
            for effect in effects or ():
                reference = _reference(sandboxes, channel, flow)
                for fault in faults:
                    with world.snapshot(sandboxes):
                        matrix.cells.append(_cell(sandboxes, channel, flow, effect, fault, reference))
            run(channel, flow)  # the world moves on
    return matrix


@dataclass
class Reference:
    status1: str
    state1: dict
    status2: str
    state2: dict
    open_keys: set[str]
    applied_counts: dict = field(default_factory=dict)  # Effect -> calls the other side processed


def _state(sandboxes: Sandboxes) -> dict:
    return {"sandboxes": world.sandbox_fingerprint(sandboxes), "hub": world.hub_fingerprint()}


def _journal_clear(sandboxes: Sandboxes) -> None:
    for server in sandboxes.servers.values():
        with server.api.lock:
            server.api.journal.clear()


def _applied(sandboxes: Sandboxes, effect: Effect) -> int:
    return sandboxes.api(effect.side).applied(effect.method, effect.path or "")


def _reference(sandboxes: Sandboxes, channel, flow: str) -> Reference:
    with world.snapshot(sandboxes):
        _journal_clear(sandboxes)
        first = run(channel, flow)
        state1 = _state(sandboxes)
        second = run(channel, flow)
        counts = {effect: _applied(sandboxes, effect) for effect in EFFECTS.get((channel.kind, flow), ())}
        return Reference(
            first.status,
            state1,
            second.status,
            _state(sandboxes),
            world.open_issue_keys(channel, flow),
            applied_counts=counts,
        )


def _cell(sandboxes, channel, flow, effect: Effect, fault: Fault, ref: Reference) -> Cell:
    row = f"{channel.kind} {flow}" + (f" [{effect.label}]" if len(EFFECTS[(channel.kind, flow)]) > 1 else "")
    problems: list[str] = []
    _journal_clear(sandboxes)
    api = sandboxes.api(effect.side)
    api.inject(fault.kind, times=MANY, method=effect.method, path=effect.path, **fault.options)
    first = run(channel, flow)
    api.clear_faults()
    reached = any(r.fault == fault.kind for r in api.journal)
    state1 = _state(sandboxes)
    problems += _history_problems(first, channel, flow)
    if not reached:
        problems.append("the fault was never reached: the flow made no such call")
    if first.status == ref.status1 and (difference := world.first_difference(ref.state1, state1)):
        problems.append(f"the first run says {first.status} but its work is not done: {difference}")
    if fault.benign and first.status != ref.status1:
        problems.append(f"a {fault.name} answer made the run {first.status} ({first.error or first.note})")
    world.time_passes()
    second = run(channel, flow)
    problems += _history_problems(second, channel, flow)
    if second.status not in (ref.status1, ref.status2):
        problems.append(f"after the fault cleared the run is {second.status}, not {ref.status2}: {second.error}")
    if difference := world.first_difference(ref.state2, _state(sandboxes)):
        problems.append(f"the state differs from two clean runs: {difference}")
    left_open = world.open_issue_keys(channel, flow) - ref.open_keys
    if left_open:
        messages = SyncIssue.objects.filter(channel=channel, flow=flow, status="open", record_key__in=left_open)
        shown = [f"{key}: {message[:160]}" for key, message in messages.values_list("record_key", "message")[:2]]
        problems.append(f"{len(left_open)} issue(s) left open after the fault cleared: {shown}")
    applied, expected = _applied(sandboxes, effect), ref.applied_counts.get(effect, 0)
    extra = f" +{applied - expected}" if applied > expected else ""
    outcome = f"{first.status}→{second.status}{extra}" if reached else "not reached"
    return Cell(row, fault.name, outcome + (" ✗" if problems else ""), problems)


def _history_problems(run_: SyncRun, channel, flow: str) -> list[str]:
    """A run's record must say what happened: a failed one its reason, every failed record an issue."""
    problems = []
    if run_.status == SyncRun.Status.FAILED and not run_.error:
        problems.append("a failed run without a reason")
    issues = SyncIssue.objects.filter(channel=channel, flow=flow, status=SyncIssue.Status.OPEN, last_run=run_)
    if unqueued := unqueued_failures(run_):
        problems.append(f"failed records not in the issue queue: {unqueued}")
    if run_.status == SyncRun.Status.PARTIAL and not (run_.failed or run_.unknown or issues.exists()):
        problems.append("a partial run with nothing failed, unknown or in the issue queue")
    return problems
