"""A small HTTP framework for the sandbox servers: routing, auth hooks, and fault injection.

Each API is a `SandboxAPI` subclass with `@route` handlers over in-memory state seeded from a `World`.
Faults are queued per server (from tests, from `manage.py sandbox --fault`, or over HTTP at
`POST /_sandbox/faults`) and consumed by the next matching requests.

What a server received is journalled twice: `api.calls` lists (method, path) of every request that reached the
API's handlers, and `api.journal` has one `Received` per request, faulted or not, with the status the API chose,
the fault it met, and whether a handler processed it — so a test counts the side effects the other side really
applied (`api.applied("POST", r"/orders$")`), including those whose answer a fault then lost. Each `Received`
keeps the request body too, so `api.repeated_writes()` names any write applied twice with the same method, path
and body.
"""

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

FAULT_KINDS = (
    "status",  # answer `status` (e.g. 429 with Retry-After, 500, 503) without processing
    "slow",  # wait `delay` seconds, then process normally
    "timeout",  # wait `delay` seconds, then close without answering and without processing
    "drop",  # close the connection at once, without processing
    "drop_after",  # process (the side effect happens), then close without answering: outcome unknown
    "malformed",  # answer 200 with a truncated JSON body, without processing
    "expired_token",  # answer 401 as for an expired token
    "echo_credentials",  # answer `status` with an error message that repeats the credentials the request carried
)


class HttpError(Exception):
    def __init__(self, status: int, message: str = "", body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.body, self.headers = status, message, body, headers or {}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    url: str = ""

    def q(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise HttpError(400, "The request body is not valid JSON.") from None

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None


@dataclass(frozen=True)
class Received:
    """One request as the server saw it: `processed` when a handler ran (its side effect happened if `status` is
    below 400), `answered` when the client got the status; a fault the request met is named in `fault`."""

    method: str
    path: str
    status: int | None  # None: no answer was chosen (a dropped or timed-out connection)
    fault: str = ""
    processed: bool = True
    answered: bool = True
    # The request body as sent, so a test can tell the same write sent twice from two writes to one path.
    body: bytes = field(default=b"", compare=False, repr=False)

    @property
    def applied(self) -> bool:
        return self.processed and self.status is not None and self.status < 400


@dataclass
class Fault:
    kind: str
    times: int = 1
    status: int = 500
    retry_after: float | None = None
    delay: float = 0.0
    method: str | None = None
    path: str | None = None  # a regular expression searched in the path
    after: int = 0  # let this many matching requests through first (a fault on the third page)
    message: str = "Injected fault"  # what a `status` fault's error body says
    # Set when a request takes this fault (for drop_after once it is processed): a crash test waits on it, then
    # kills the client while the sandbox holds the answer (`slow`, `timeout`, `drop_after` with a long delay).
    reached: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        return not self.path or re.search(self.path, path) is not None


def route(method: str, pattern: str) -> Callable:
    """Mark a SandboxAPI method as the handler of METHOD + a full-match path regex (named groups → kwargs)."""

    def mark(func: Callable) -> Callable:
        func._route = (method.upper(), re.compile(pattern))  # type: ignore[attr-defined]  # read by the router
        return func

    return mark


@dataclass(frozen=True)
class Recorded:
    """One request exactly as it arrived (when `api.recording` is a list): what a bare client must send to
    make the same call. `at` is time.monotonic() on arrival, to merge several servers' recordings in order."""

    at: float
    method: str
    target: str  # the path with its query string
    headers: dict[str, str]  # lower-cased names, without the ones the client sets for itself
    body: bytes


NOT_RECORDED = frozenset({"host", "content-length", "connection", "accept-encoding", "user-agent", "accept"})


class SandboxAPI:
    name: ClassVar[str] = "sandbox"
    # The credentials this sandbox accepts; the demo and the test fixtures configure channels with them.
    credentials: ClassVar[dict[str, str]] = {}

    def __init__(self, world: Any):
        self.world = world
        self.lock = threading.RLock()
        self.faults: list[Fault] = []
        self.calls: list[tuple[str, str]] = []
        self.journal: list[Received] = []
        self.recording: list[Recorded] | None = None  # a list: every request is appended, body and all
        self.base_url = ""
        self._routes = [
            (m._route[0], m._route[1], m)
            for m in (getattr(self, n) for n in dir(type(self)) if not n.startswith("__"))
            if hasattr(m, "_route")
        ]
        self.reset()

    # Subclasses implement these.
    def reset(self) -> None:
        """(Re)build the in-memory state from the world."""

    def authenticate(self, request: Request) -> None:
        """Raise HttpError(401) unless the request carries valid credentials."""

    def error_body(self, status: int, message: str) -> Any:
        return {"error": {"code": str(status), "message": message}}

    def retry_after_headers(self, seconds: float) -> dict[str, str]:
        return {"Retry-After": f"{seconds:g}"}

    def public(self, request: Request) -> bool:
        """Paths that need no authentication (token endpoints)."""
        return False

    # Fault injection.
    def inject(self, kind: str, times: int = 1, **options: Any) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(FAULT_KINDS)}")
        fault = Fault(kind=kind, times=times, **options)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(method, path):
                    if fault.after > 0:
                        fault.after -= 1
                        continue
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def calls_to(self, method: str, pattern: str) -> int:
        with self.lock:
            return sum(1 for m, p in self.calls if m == method and re.search(pattern, p))

    def applied(self, method: str, pattern: str) -> int:
        """How many METHOD requests whose path matches `pattern` a handler processed successfully: the side
        effects that happened, whether or not their answers reached the client."""
        with self.lock:
            return sum(1 for r in self.journal if r.applied and r.method == method and re.search(pattern, r.path))

    def received(self, request: Request, status: int | None, fault: str = "", **flags: bool) -> None:
        with self.lock:
            self.journal.append(Received(request.method, request.path, status, fault, body=request.body, **flags))

    def repeated_writes(self, pattern: str = "") -> dict[tuple[str, str, bytes], int]:
        """Writes (any method but GET) a handler applied more than once with the same method, path and body,
        whose path matches `pattern`: {(method, path, body): times}. A side effect sent twice shows up here."""
        with self.lock:
            seen = Counter(
                (r.method, r.path, r.body)
                for r in self.journal
                if r.applied and r.method != "GET" and re.search(pattern, r.path)
            )
        return {write: times for write, times in seen.items() if times > 1}

    def dispatch(self, request: Request) -> Response:
        with self.lock:
            self.calls.append((request.method, request.path))
        try:
            if not self.public(request):
                self.authenticate(request)
            for method, pattern, handler in self._routes:
                if method == request.method and (match := pattern.fullmatch(request.path)):
                    with self.lock:
                        result = handler(request, **match.groupdict())
                    return result if isinstance(result, Response) else Response(200, result)
            allowed = any(p.fullmatch(request.path) for _, p, _ in self._routes)
            raise HttpError(405 if allowed else 404, f"No route for {request.method} {request.path}")
        except HttpError as exc:
            body = exc.body if exc.body is not None else self.error_body(exc.status, exc.message)
            return Response(exc.status, body, exc.headers)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, keep-alive clients wait ~40 ms per response for
    # the delayed ACK of the first one.
    disable_nagle_algorithm = True
    api: SandboxAPI

    def log_message(self, format: str, *args: Any) -> None:  # quiet; tests read api.calls
        pass

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            url=f"{self.api.base_url.rstrip('/')}{self.path}",
        )
        if parts.path.startswith("/_sandbox/"):
            return self._send(self._control(request))
        if self.api.recording is not None:
            kept = {k: v for k, v in request.headers.items() if k not in NOT_RECORDED}
            self.api.recording.append(Recorded(time.monotonic(), request.method, self.path, kept, body))
        fault = self.api.take_fault(request.method, request.path)
        kind = fault.kind if fault else ""
        if fault is not None and kind != "drop_after":
            fault.reached.set()
        if fault is None or kind in ("slow", "drop_after"):
            if kind == "slow":
                time.sleep(fault.delay)  # type: ignore[union-attr]  # a slow fault is a fault
            response = self.api.dispatch(request)
            self.api.received(request, response.status, kind, answered=kind != "drop_after")
            if kind != "drop_after":
                return self._send(response)
            fault.reached.set()  # type: ignore[union-attr]
            time.sleep(fault.delay)  # type: ignore[union-attr]
            self.close_connection = True  # processed (the side effect happened), but no answer: outcome unknown
            return None
        if kind == "status":
            headers = self.api.retry_after_headers(fault.retry_after) if fault.retry_after is not None else {}
            answer = Response(fault.status, self.api.error_body(fault.status, fault.message), headers)
        elif kind == "expired_token":
            answer = Response(401, self.api.error_body(401, "The access token has expired."))
        elif kind == "echo_credentials":
            message = f"Rejected: credentials {echoed_credentials(request)} are not allowed here"
            answer = Response(fault.status, self.api.error_body(fault.status, message))
        elif kind == "malformed":
            answer = Response(200, raw=b'{"value": [{"ID": 1, ')
        else:  # timeout, drop: no answer at all, nothing processed
            self.api.received(request, None, kind, processed=False, answered=False)
            if kind == "timeout":
                time.sleep(fault.delay)
            self.close_connection = True
            return None
        self.api.received(request, answer.status, kind, processed=False)
        return self._send(answer)

    def _control(self, request: Request) -> Response:
        if request.path == "/_sandbox/faults" and request.method == "POST":
            self.api.inject(**request.json())
            return Response(201, {"faults": len(self.api.faults)})
        if request.path == "/_sandbox/faults" and request.method == "DELETE":
            self.api.clear_faults()
            return Response(204)
        if request.path == "/_sandbox/reset" and request.method == "POST":
            with self.api.lock:
                self.api.reset()
            return Response(204)
        return Response(404, {"error": "unknown control path"})

    def _send(self, response: Response) -> None:
        if response.raw is not None:
            payload = response.raw
        elif response.body is None:
            payload = b""
        else:
            payload = json.dumps(response.body, default=str).encode()
        self.send_response(response.status)
        if payload:
            self.send_header("Content-Type", "application/json")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


def echoed_credentials(request: Request) -> str:
    """What a careless API quotes back: the Authorization header without its scheme, or the API key header."""
    header = request.header("authorization") or request.header("x-api-key")
    return header.partition(" ")[2] or header


class SandboxServer:
    """Runs one SandboxAPI on 127.0.0.1 in a background thread."""

    def __init__(self, api: SandboxAPI, port: int = 0, host: str = "127.0.0.1"):
        handler = type(f"{type(api).__name__}Handler", (_Handler,), {"api": api})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.api = api
        self.url = f"http://{host}:{self.httpd.server_address[1]}/"
        api.base_url = self.url
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=f"sandbox-{api.name}", daemon=True)

    def start(self) -> "SandboxServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
