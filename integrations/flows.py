"""The flow registry. Each domain app declares its flows in `<app>/flows.py` and registers them in its
AppConfig.ready(); integrations names no domain flow and imports no domain app.

A flow is `func(channel, *, report, since=None, dry_run=False) -> None`: it counts what it did on `report`,
sends a bad record to the issue queue with `report.issue(...)` and carries on.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from integrations.connectors.capabilities import implements


@dataclass
class IssueReport:
    record_key: str
    message: str
    payload: Any = None


@dataclass
class RunReport:
    """What a flow did: counts, per-record issues, and the records that succeeded (to resolve old issues).

    Each record seen lands in one count: seen = created + updated + skipped + failed + unknown. `unknown` is a
    record whose outcome the run could not learn (a push the channel never answered). What else happened that
    the counts cannot say (pushes handed to chunk tasks) goes to `notes`, shown on the run's page.
    """

    flow: str
    dry_run: bool = False
    seen: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    unknown: int = 0
    issues: list[IssueReport] = field(default_factory=list)
    succeeded_keys: set[str] = field(default_factory=set)
    lines: list[str] = field(default_factory=list)  # what a dry run would do, for the terminal
    notes: list[str] = field(default_factory=list)

    def issue(self, record_key: str, message: str, payload: Any = None, *, counted_as: str = "") -> None:
        """Send a record to the issue queue and count it failed. A record the run already counted (`counted_as`:
        "created", "updated", "skipped" or "unknown") moves from that count, so it is counted once."""
        self.failed += 1
        if counted_as:
            setattr(self, counted_as, getattr(self, counted_as) - 1)
        self.flag(record_key, message, payload)

    def flag(self, record_key: str, message: str, payload: Any = None) -> None:
        """Open an issue about something this run does not count as a failed record (an earlier run's push, the
        channel as a whole)."""
        self.issues.append(IssueReport(str(record_key), message, payload))

    def succeeded(self, *record_keys: str) -> None:
        self.succeeded_keys.update(str(k) for k in record_keys)

    def say(self, line: str) -> None:
        self.lines.append(line)

    def note(self, text: str) -> None:
        self.notes.append(text)

    @property
    def unaccounted(self) -> int:
        """Records seen but in no count; non-zero only when a note says where they went."""
        return self.seen - self.created - self.updated - self.skipped - self.failed - self.unknown


FlowFunc = Callable[..., None]

SALES, FULFILLMENT, ANY_ROLE = "sales", "fulfillment", "any"


@dataclass(frozen=True)
class Flow:
    """One flow, declared by the app that owns it (`<app>/flows.py`).

    A name may be declared once per role (catalog.download reads items from the fulfillment system and listings
    from a sales channel): each declaration is one job with one function, never a branch on the role.
    """

    name: str
    role: str  # SALES, FULFILLMENT, or ANY_ROLE (the health check)
    needs: type | None  # the capability its function asks of the connector; None: any connector
    func: FlowFunc
    interval: int = 60  # default minutes between scheduled runs
    after: tuple[str, ...] = ()  # flows that should run before it in one cycle (demo --once, the admin's list)
    label: str = ""  # what a person reads instead of the name: "Order download"
    # Reads from the channel's go-live date on its first run: without one it would read everything the channel
    # has, so it cannot be enabled or run by hand until the channel has a date (Channel.go_live_at).
    needs_go_live: bool = False


_registry: dict[tuple[str, str], Flow] = {}


def register(*declared: Flow) -> None:
    for flow in declared:
        _registry[(flow.name, flow.role)] = flow


def get_flow(name: str, role: str) -> Flow:
    """The flow of this name for a channel of this role."""
    flow = _registry.get((name, role)) or _registry.get((name, ANY_ROLE))
    if flow is None:
        raise LookupError(f"No flow named {name!r} is registered for a {role} channel.")
    return flow


def flow_label(name: str) -> str:
    """The flow's name in words ("Order download"), as its app declares it; else the name itself."""
    return next((flow.label for (n, _), flow in _registry.items() if n == name and flow.label), name)


def needs_go_live(name: str) -> bool:
    """Whether the flow of this name starts from the channel's go-live date (on any role it is declared for)."""
    return any(flow.needs_go_live for (n, _), flow in _registry.items() if n == name)


def registered() -> list[str]:
    """Registered flow names in dependency order: each after the flows it names in `after`, then by name."""
    return sorted({name for name, _ in _registry}, key=lambda name: (_depth(name, ()), name))


def supported(connector: type, role: str) -> tuple[str, ...]:
    """The flows a connector class can run on a channel of this role, in dependency order: those whose needed
    capability its class implements (see integrations/connectors/capabilities.py)."""
    names = {
        flow.name
        for flow in _registry.values()
        if flow.role in (role, ANY_ROLE) and (flow.needs is None or implements(connector, flow.needs))
    }
    return tuple(name for name in registered() if name in names)


def default_interval(name: str, role: str) -> int:
    """Minutes between scheduled runs when the channel does not set an interval."""
    try:
        return get_flow(name, role).interval
    except LookupError:
        return 60


def _depth(name: str, path: tuple[str, ...]) -> int:
    """How many flows run before this one; a flow with no `after` sorts first, the health check last."""
    if name in path:
        raise ValueError(f"flows run after each other in a circle: {' -> '.join((*path, name))}")
    declared = [flow for (n, _), flow in _registry.items() if n == name]
    if any(flow.needs is None for flow in declared):
        return 1_000  # the health check: after every data flow in a cycle
    before = {dep for flow in declared for dep in flow.after if any(n == dep for n, _ in _registry)}
    return max((_depth(dep, (*path, name)) + 1 for dep in before), default=0)


def parse_position(position: str) -> datetime | None:
    return datetime.fromisoformat(position) if position else None
