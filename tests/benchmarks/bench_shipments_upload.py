"""Shipment upload: the hub's outbox (orders/shipment_upload.py) against a bare `requests.Session` loop.

N shipments (two sizes, for the growth: tiny 20 and 50, small 200 and 1,000, full 1,000 and 5,000), one per
order of one or two lines, go to a channel sandbox on 127.0.0.1 twice each round, each time to a freshly reset
sandbox holding the same N unshipped orders:
- bare: one keep-alive session, the access token fetched once (CA's refresh-token grant; OM's token is
  static), then per shipment the request with the body the connector builds, written out by hand;
- hub: `shipments_upload` over N pending ShipmentUpload rows (read 200 at a time with their lines, the
  batch's attempts counted by one committed UPDATE, the connector's call per row, one mark-sent UPDATE per
  batch), connector made and closed inside the timing, as a flow run does.
Rounds alternate which side goes first; the median round is reported. Checked each hub round: every row
SENT, the sandbox saw exactly N upload calls, and what it accepted equals what the bare loop sent.

Channels: ChannelAdvisor (POST /v1/Orders(ID)/Ship, 204) and Extensiv (PUT /v1.1/shipment/external, the
shipment echoed back as JSON). Client-side rate limits are off (both channels' `requests_per_second` setting
is 0), so the ratio is the hub's own cost; the sandboxes' limits are off too. Server and client share one
process (and its GIL): only the ratios matter. OM's sandbox finds an order's shipments by scanning all of them, so its calls slow as N grows, for both sides.
"""

import logging
import statistics
import time
from collections.abc import Callable
from contextlib import closing, contextmanager

import requests
from django.db import connection
from django.db.models import Count
from django.test.utils import override_settings
from requests.auth import HTTPBasicAuth

from integrations.connectors import connector_for
from integrations.flows import RunReport
from integrations.models import Channel
from integrations.sandbox.registry import Sandboxes
from orders.models import ShipmentUpload, UploadState
from orders.shipment_upload import shipments_upload
from tests.benchmarks import shipments_world as world
from tests.benchmarks.table import BenchRow

# size -> (shipments at two sizes for the growth, rounds)
SIZES = {"tiny": ((20, 50), 1), "small": ((200, 1_000), 3), "full": ((1_000, 5_000), 3)}
KINDS = ("channeladvisor", "extensiv")
UPLOAD_CALL = {"channeladvisor": ("POST", r"/Ship$"), "extensiv": ("PUT", r"/shipment/external$")}
ENDPOINT = {"channeladvisor": "POST /v1/Orders(ID)/Ship", "extensiv": "PUT /v1.1/shipment/external"}


def run(size: str) -> list[str | BenchRow]:
    counts, rounds = SIZES[size]
    sandboxes = Sandboxes.start(kinds=list(KINDS))
    http_log = logging.getLogger("integrations.http")
    level = http_log.level
    http_log.setLevel(logging.INFO)  # as in production: debug lines checked, never formatted
    try:
        with override_settings(DEBUG=False):  # no query log taxing the hub side
            lines: list[str | BenchRow] = []
            for n in counts:
                lines.append(f"database: {connection.vendor}; {n} shipments x {rounds} round(s), median round")
                for kind in KINDS:
                    lines += _measure(sandboxes, kind, n, rounds)
        if size == "tiny":
            lines.append("tiny: too few shipments for steady figures; read the ratios at the full size")
        return lines
    finally:
        http_log.setLevel(level)
        sandboxes.stop()


def _measure(sandboxes: Sandboxes, kind: str, n: int, rounds: int) -> list[str | BenchRow]:
    values = sandboxes.channel_values(kind, slug=f"bench-ship-{kind}-{n}")
    values["settings"] = {**(values["settings"] if kind == "extensiv" else {}), "requests_per_second": 0}
    channel = Channel.objects.create(**values)
    orders = world.sandbox_fresh(sandboxes, kind, n)
    world.hub_shipped(channel, orders)
    calls = world.bare_calls(kind, orders)
    seconds: dict[str, list[float]] = {"bare": [], "hub": []}
    expected: list[dict] = []
    queries = 0
    for r in range(rounds):
        for side in ("bare", "hub") if r % 2 == 0 else ("hub", "bare"):
            if world.sandbox_fresh(sandboxes, kind, n) != orders:
                raise AssertionError(f"the {kind} sandbox gave other IDs after its reset")
            if side == "bare":
                seconds["bare"].append(_timed(lambda: _bare(sandboxes, kind, calls)))
                expected = _check_calls(sandboxes, kind, n, None)
            else:
                world.hub_requeue(channel)
                with _counted() as counter:
                    seconds["hub"].append(_timed(lambda: _hub(channel)))
                queries = counter[0]
                _check_sent(channel, n)
                _check_calls(sandboxes, kind, n, expected or None)
    bare, hub = (statistics.median(seconds[side]) for side in ("bare", "hub"))
    return [
        f"{kind}: {ENDPOINT[kind]}: bare loop {n / bare:.0f} shipments/s ({_spread(seconds['bare'])}), hub "
        f"{n / hub:.0f} shipments/s ({_spread(seconds['hub'])}), {queries / n:.2f} queries per shipment",
        BenchRow(f"shipment upload, {kind}", n, hub, "shipments", "bare requests.Session loop", bare,
                 queries=queries, note=f"median of {rounds} round(s)"),
    ]  # fmt: skip


def _bare(sandboxes: Sandboxes, kind: str, calls: list[tuple[str, str, dict]]) -> None:
    base = sandboxes.url(kind).rstrip("/")
    credentials = sandboxes.api(kind).credentials
    with requests.Session() as session:
        session.headers.update({"Accept": "application/json", "User-Agent": "Switchyard/0.1"})
        session.headers["Authorization"] = f"Bearer {_token(session, base, credentials, kind)}"
        for method, path, body in calls:
            session.request(method, base + path, json=body, timeout=(5.0, 30.0)).raise_for_status()


def _token(session: requests.Session, base: str, credentials: dict, kind: str) -> str:
    if kind != "channeladvisor":
        return credentials["access_token"]
    form = {"grant_type": "refresh_token", "refresh_token": credentials["refresh_token"]}
    basic = HTTPBasicAuth(credentials["application_id"], credentials["shared_secret"])
    response = session.post(f"{base}/oauth2/token", data=form, auth=basic, timeout=(5.0, 30.0))
    response.raise_for_status()
    return response.json()["access_token"]


def _hub(channel: Channel) -> None:
    report = RunReport(flow="shipments.upload")
    with closing(connector_for(channel)) as connector:
        shipments_upload(channel=channel, connector=connector, report=report)
    if report.created != report.seen:
        raise AssertionError(f"{channel.kind}: {report.seen} rows seen, {report.created} sent")


def _check_sent(channel: Channel, n: int) -> None:
    rows = ShipmentUpload.objects.filter(channel=channel).values_list("state").annotate(n=Count("pk")).order_by()
    states = dict(rows)
    if states != {UploadState.SENT: n}:
        raise AssertionError(f"{channel.kind}: outbox states after the hub run: {states}")


def _check_calls(sandboxes: Sandboxes, kind: str, n: int, expected: list[dict] | None) -> list[dict]:
    """Exactly `n` upload calls, each accepted; the bodies the same as `expected` when given."""
    calls, accepted = sandboxes.api(kind).calls_to(*UPLOAD_CALL[kind]), world.received(sandboxes, kind)
    if calls != n or len(accepted) != n:
        raise AssertionError(f"{kind}: {calls} upload calls, {len(accepted)} accepted, for {n} shipments")
    if expected is not None and accepted != expected:
        first = next(i for i, (a, b) in enumerate(zip(accepted, expected, strict=True)) if a != b)
        raise AssertionError(f"{kind}: the hub sent {accepted[first]}, the bare loop {expected[first]}")
    return accepted


@contextmanager
def _counted():
    """Counts the queries sent (a one-element list), without Django's query log."""
    counter = [0]

    def count(execute: Callable, sql: str, params: object, many: bool, context: dict) -> object:
        counter[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield counter


def _spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}s per round" if len(values) > 1 else f"{values[0]:.2f}s"


def _timed(func: Callable[[], object]) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started
