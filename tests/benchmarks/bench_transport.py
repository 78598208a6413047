"""Transport overhead: requests per second through the OMS connector against a bare `requests.Session` loop.

Both hit the sandbox OMS on 127.0.0.1, on the same endpoint with the same headers, one keep-alive
connection each. The connector side is the whole production path: `HttpClient.request` (auth header,
retry loop, rate limiter — turned off, as the setting allows — and the debug logger at INFO, so
`isEnabledFor` is checked but nothing is formatted), JSON decoding, and the payload checked field by field
into a record. The bare side does `session.get(url).json()` and nothing else. Many short rounds
rotate the sides so drift in the machine hits all, and each side's best round is reported: on a shared
machine a round is only ever slowed by others' work, never sped up, so the fastest is the least disturbed. A third side, `HttpClient` alone
(request + JSON, no record parsing), separates the transport's cost from the connector's field checks. A
ratio is the share of the bare rate kept: 1.0 means no measurable cost. Client and server share one
process (and its GIL), so the absolute rates are the sandbox's, not a real OMS's; only the ratios matter.

No database is touched.
"""

import logging
import sys
import time
from collections.abc import Callable, Iterable
from decimal import Decimal

import requests

from integrations.connectors.oms import OmsConnector
from integrations.connectors.records import Address, FulfillmentLine, FulfillmentOrder
from integrations.sandbox.registry import Sandboxes
from tests.benchmarks.table import BenchRow

# size -> (rounds, order-status requests per side per round, inventory-page requests per side per round)
SIZES = {"tiny": (5, 30, 10), "small": (15, 40, 15), "full": (30, 60, 20)}
WARM_UP = 20


def run(size: str) -> list[str | BenchRow]:
    rounds, status_calls, page_calls = SIZES[size]
    sandboxes = Sandboxes.start(kinds=["oms"])
    http_log = logging.getLogger("integrations.http")
    level = http_log.level
    http_log.setLevel(logging.INFO)
    # Server and client threads share the GIL: a client whose answer is ready can wait up to the switch interval
    # (5 ms) for the server thread to let go of it, which made rounds bimodal (2 ms or 7 ms a call, whichever
    # side). A short interval keeps that hand-over, which no real deployment has, out of the figures.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)
    try:
        return _measure(sandboxes, rounds, status_calls, page_calls)
    finally:
        sys.setswitchinterval(interval)
        http_log.setLevel(level)
        sandboxes.stop()


def _measure(sandboxes: Sandboxes, rounds: int, status_calls: int, page_calls: int) -> list[str | BenchRow]:
    api = sandboxes.api("oms")
    connector = OmsConnector(
        base_url=sandboxes.url("oms"),
        credentials=api.credentials,
        settings={"requests_per_second": 0, "page_size": 500},  # all 144 stock rows in one page
        label="bench-transport",
    )
    http = connector.http
    bare = requests.Session()
    bare.headers.update(http.session.headers)  # Accept, User-Agent, Authorization: the same request
    try:
        number = connector.order_submit(_order()).number
        status_path, inventory_path, page = f"/api/v1/orders/{number}", "/api/v1/inventory", {"limit": 500}
        lines = _compare(
            "GET order status",
            f"({status_calls} calls x {rounds} rounds)",
            rounds,
            status_calls,
            bare=lambda: _bare_get(bare, http.url(status_path), None),
            transport=lambda: http.json(http.get(status_path)),
            connector=lambda: connector.order_status(number),
        )
        lines += _compare(
            f"GET inventory page ({len(api.stock)} rows)",
            f"({page_calls} calls x {rounds} rounds)",
            rounds,
            page_calls,
            bare=lambda: _bare_get(bare, http.url(inventory_path), page),
            transport=lambda: http.json(http.get(inventory_path, params=page)),
            connector=lambda: _drain(connector.inventory_download(since=None)),
        )
        return lines
    finally:
        bare.close()
        connector.close()


def _compare(title: str, detail: str, rounds: int, calls: int, **sides: Callable[[], object]) -> list[str | BenchRow]:
    """Best requests/second of each side over the rounds; rounds rotate which side goes first. Two rows for the table: the
    transport alone and the whole connector, each against the bare loop (seconds per `calls` calls)."""
    rates: dict[str, list[float]] = {name: [] for name in sides}
    for call in sides.values():
        _rate(call, WARM_UP)
    names = list(sides)
    for n in range(rounds):
        for name in names[n % len(names) :] + names[: n % len(names)]:
            rates[name].append(_rate(sides[name], calls))
    median = {name: max(values) for name, values in rates.items()}  # the best round: the least disturbed
    bare = "bare requests + json"
    return [
        f"{title} {detail}: bare requests.Session {median['bare']:.0f} req/s, HttpClient {median['transport']:.0f} "
        f"req/s, connector {median['connector']:.0f} req/s",
        BenchRow(f"{title}: HttpClient (transport only)", calls, calls / median["transport"], "calls", bare,
                 calls / median["bare"], note=f"best of {rounds} rounds"),
        BenchRow(f"{title}: connector (transport + parsing)", calls, calls / median["connector"], "calls", bare,
                 calls / median["bare"], target=0.9, note=f"best of {rounds} rounds"),
    ]  # fmt: skip


def _rate(call: Callable[[], object], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return calls / (time.perf_counter() - started)


def _bare_get(session: requests.Session, url: str, params: dict | None) -> None:
    response = session.get(url, params=params, timeout=(5.0, 30.0))
    response.raise_for_status()
    response.json()


def _drain(rows: Iterable[object]) -> None:
    for _ in rows:
        pass


def _order() -> FulfillmentOrder:
    address = Address(name="Bench", line1="1 Loop Rd", city="Localhost", postal_code="00000", country="US")
    line = FulfillmentLine("L1", "GM501", 1, Decimal("1.00"))
    return FulfillmentOrder("bench-transport-1", "BENCH-1", "bench", address, address, "Ground", (line,))


if __name__ == "__main__":
    for text in run(sys.argv[1] if len(sys.argv) > 1 else "tiny"):
        print(text)
