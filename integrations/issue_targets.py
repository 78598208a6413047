"""What an issue is about: domain apps register, per flow, a resolver that turns issues' record keys into the admin
page of the order, shipment, listing or item (integrations imports no domain app). A resolver takes many issues
and runs one query, so a list page resolves its rows with one query per flow shown, not one per row."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from integrations.models import CHANNEL_ISSUE_KEY, SyncIssue


@dataclass(frozen=True)
class Target:
    label: str  # "order 1001", "listing 1001-RED-X"
    url: str  # its admin change page


Resolver = Callable[[list[SyncIssue]], dict[int, Target]]
_resolvers: dict[str, Resolver] = {}


def register_target(flows: Iterable[str], resolver: Resolver) -> None:
    for flow in flows:
        _resolvers[flow] = resolver


def issue_targets(issues: Iterable[SyncIssue]) -> dict[int, Target]:
    """{issue id: its target} for the issues whose record can be found (channel-level issues have none)."""
    by_flow: dict[str, list[SyncIssue]] = defaultdict(list)
    for issue in issues:
        if issue.record_key != CHANNEL_ISSUE_KEY and issue.flow in _resolvers:
            by_flow[issue.flow].append(issue)
    found: dict[int, Target] = {}
    for flow, group in by_flow.items():
        found.update(_resolvers[flow](group))
    return found


def matched(issues: list[SyncIssue], rows: dict[tuple[int, str], Target], key=lambda k: k) -> dict[int, Target]:
    """Pair issues with rows found by (channel id, key derived from the record key)."""
    targets = {}
    for issue in issues:
        target = rows.get((issue.channel_id, key(issue.record_key)))
        if target is not None:
            targets[issue.pk] = target
    return targets
