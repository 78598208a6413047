"""The fault matrix's world: the four sandboxes wired as the demo wires them, walked flow by flow in dependency
order, with the hub's database and every sandbox's state snapshotted before each flow so each fault starts from
the same place."""

import copy
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from django.apps import apps
from django.db import models, transaction

from integrations import flows
from integrations.connectors import connector_class
from integrations.demo import demo_channels_setup, demo_warehouse
from integrations.models import Channel, SyncIssue
from integrations.sandbox.registry import Sandboxes

# What a sandbox keeps that is plumbing or bookkeeping, not state of the other side.
NOT_STATE = {"world", "lock", "faults", "calls", "journal", "base_url", "_routes", "_recent", "_in_flight"}
NOT_STATE |= {"_stock_index"}  # Extensiv's sorted stock keys, kept between pages
# Differ between two runs that did the same work: tokens and their grants, replay counters, id counters.
VOLATILE = {"tokens", "token_grants", "replays", "_ids", "clock", "access_tokens", "refreshes", "nonces", "_last"}
VOLATILE |= {"_nonces_by_arrival"}
# Logs of what was sent, not state: an absolute quantity sent twice leaves the same quantity behind.
VOLATILE |= {"quantity_updates", "adjustments"}
STAMP = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d")
# The hub's outbox and bookkeeping rows differ by design after a fault (a failed intent, an event saying so).
HUB_SKIPPED = {"inventory.pushintent", "orders.orderevent", "orders.hooknonce", "orders.downloadrequest"}
HUB_VOLATILE_FIELDS = {"error", "attempts", "submit_attempts", "last_error", "failure", "note", "retries"}
# Flows whose work needs something from a flow that the registry does not order before them.
WALK_AFTER = {"customers.upload": "orders.download"}


def walk_order() -> list[str]:
    """The registered flows in the order the walk runs them."""
    order = [name for name in flows.registered() if name not in WALK_AFTER]
    for name, after in WALK_AFTER.items():
        if name in flows.registered():
            order.insert(order.index(after) + 1, name)
    return order


def channels_for(channels: list[Channel], flow: str) -> list[Channel]:
    return [c for c in channels if flow in flows.supported(connector_class(c.kind), c.role)]


def channels_setup(sandboxes: Sandboxes) -> list[Channel]:
    return demo_channels_setup(sandboxes=sandboxes)


def stage(flow: str, sandboxes: Sandboxes, channels: list[Channel]) -> None:
    """Move the other side before a flow so it has work to do."""
    if flow == "shipments.download":
        demo_warehouse(sandboxes=sandboxes)
    if flow == "cancellations.download":
        _cancel_one_submitted_order_per_channel(sandboxes, channels)


def _cancel_one_submitted_order_per_channel(sandboxes: Sandboxes, channels: list[Channel]) -> None:
    from orders.models import Order

    oms = sandboxes.api("oms")
    for channel in channels:
        if channel.role != "sales":
            continue
        open_numbers = {n for n, o in oms.orders.items() if o["status"] == "open"}
        order = (
            Order.objects.filter(channel=channel, fulfillment_number__in=open_numbers).order_by("external_id").last()
        )
        if order is None:
            continue
        api = sandboxes.api(channel.kind)
        api.cancel_order(order.external_id if channel.kind == "nuorder" else int(order.external_id))


@contextmanager
def snapshot(sandboxes: Sandboxes) -> Iterator[None]:
    """Everything put back on leaving: the hub's database (a savepoint) and each sandbox's state."""
    saved = {kind: _state(server.api) for kind, server in sandboxes.servers.items()}
    point = transaction.savepoint()
    try:
        yield
    finally:
        transaction.savepoint_rollback(point)
        for kind, server in sandboxes.servers.items():
            with server.api.lock:
                server.api.__dict__.update(copy.deepcopy(saved[kind]))
                server.api.clear_faults()


def _state(api: Any) -> dict[str, Any]:
    with api.lock:
        return copy.deepcopy({k: v for k, v in vars(api).items() if k not in NOT_STATE})


def sandbox_fingerprint(sandboxes: Sandboxes) -> dict[str, Any]:
    """The other side's state with what legitimately differs between two runs of the same work left out."""
    return {
        kind: _plain({k: v for k, v in _state(server.api).items() if k not in VOLATILE})
        for kind, server in sandboxes.servers.items()
    }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if not _stamp_key(k)}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, datetime | date) or (isinstance(value, str) and STAMP.match(value)):
        return "<time>"
    if isinstance(value, str | int | float | bool | type(None)):
        return value
    return repr(value) if not hasattr(value, "__dict__") else _plain(vars(value))


def _stamp_key(key: Any) -> bool:
    text = str(key)
    return text.endswith(("_at", "Date", "DateUtc", "_utc")) or text in ("updated", "modified", "etag", "ETag")


def hub_fingerprint() -> dict[str, Counter]:
    """Every domain row of the hub, as a multiset of its plain values (no keys, times or error texts)."""
    prints: dict[str, Counter] = {}
    for label in ("catalog", "inventory", "orders"):
        for model in apps.get_app_config(label).get_models():
            if model._meta.label_lower in HUB_SKIPPED:
                continue
            fields = [
                f.attname
                for f in model._meta.concrete_fields
                if not f.primary_key
                and not isinstance(f, models.DateTimeField | models.ForeignKey)
                and f.name not in HUB_VOLATILE_FIELDS
            ]
            if not fields:  # a row of keys and times only: count it
                prints[model._meta.label_lower] = Counter({(): model.objects.count()})
                continue
            prints[model._meta.label_lower] = Counter(
                tuple(f"{name}={value!r}" for name, value in zip(fields, row, strict=True))
                for row in model.objects.values_list(*fields)
            )
    return prints


def first_difference(expected: Any, got: Any, path: str = "") -> str:
    """Where two fingerprints first differ, in a line."""
    if isinstance(expected, Counter) and isinstance(got, Counter):
        missing, extra = expected - got, got - expected
        if missing or extra:
            (one, *_), (other, *_) = list(missing) or [()], list(extra) or [()]
            changed = [f for f in one if f not in other] if one and other else one or other
            return f"{path}: {len(missing)} row(s) missing, {len(extra)} extra; e.g. {changed[:4]} → {[f for f in other if f not in one][:4]}"
        return ""
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in sorted(set(expected) | set(got), key=str):
            if key not in got:
                return f"{path}/{key}: missing"
            if key not in expected:
                return f"{path}/{key}: extra {str(got[key])[:120]}"
            if found := first_difference(expected[key], got[key], f"{path}/{key}"):
                return found
        return ""
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        for i, (a, b) in enumerate(zip(expected, got, strict=True)):
            if found := first_difference(a, b, f"{path}[{i}]"):
                return found
        return ""
    if expected != got:
        return f"{path}: {str(expected)[:120]} → {str(got)[:120]}"
    return ""


def time_passes() -> None:
    """Every retry the hub put off (a submission, a shipment upload waiting out its backoff) is due now: what a
    later scheduled run would find once the wait is over."""
    from django.utils import timezone

    for label in ("catalog", "inventory", "orders"):
        for model in apps.get_app_config(label).get_models():
            if any(f.name == "next_attempt_at" for f in model._meta.concrete_fields):
                model.objects.filter(next_attempt_at__gt=timezone.now()).update(next_attempt_at=timezone.now())


def open_issue_keys(channel: Channel, flow: str) -> set[str]:
    issues = SyncIssue.objects.filter(channel=channel, flow=flow, status=SyncIssue.Status.OPEN)
    return set(issues.values_list("record_key", flat=True))
