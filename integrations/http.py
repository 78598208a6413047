"""The one HTTP transport every connector uses: pooled session, timeouts, retries with backoff and
jitter, Retry-After, a per-channel rate limiter, one token refresh on 401, redacted debug logs, and
errors a person can read."""

import email.utils
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from integrations.redaction import redact_mapping, redact_text, secrets_remember

log = logging.getLogger("integrations.http")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class ChannelError(Exception):
    """An external call failed. `reason` is short and fit to show in the admin."""

    retryable = False

    def __init__(self, reason: str, *, channel: str = "", method: str = "", path: str = "", status: int | None = None):
        # Redacted here, once for every error class: the reason may quote an upstream body that echoes a secret,
        # and from here it goes to runs, issues, orders, admin messages and logs.
        reason = redact_text(reason)
        self.reason, self.channel, self.method, self.path, self.status = reason, channel, method, path, status
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.method} {self.path}".strip()
        status = f" → {self.status}" if self.status else ""
        prefix = f"{self.channel}: " if self.channel else ""
        return f"{prefix}{self.reason}" + (f" ({where}{status})" if where else "")


class AuthFailed(ChannelError):
    pass


class RateLimited(ChannelError):
    retryable = True


class NotFound(ChannelError):
    pass


class Conflict(ChannelError):
    pass


class ClientError(ChannelError):
    """The channel refused the request (400 and other 4xx): fix the data, do not retry."""


class ServerError(ChannelError):
    retryable = True


class BadResponse(ChannelError):
    """The channel answered, but not with what its API documents (malformed JSON, a missing field)."""


class TransportError(ChannelError):
    """No answer: connection refused or dropped, or a timeout. `outcome_unknown` when the request was sent."""

    retryable = True

    def __init__(self, reason: str, *, outcome_unknown: bool = False, **kwargs: Any):
        self.outcome_unknown = outcome_unknown
        super().__init__(reason, **kwargs)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    backoff: float = 0.5  # first wait, seconds; doubles per attempt
    max_wait: float = 30.0
    jitter: float = 0.25  # +/- share of the wait


@dataclass(frozen=True)
class RateLimit:
    per_second: float
    burst: int = 1


class RateLimiter:
    """A token bucket shared by every client of the same channel in this process."""

    _buckets: dict[str, "RateLimiter"] = {}
    _registry_lock = threading.Lock()

    def __init__(self, limit: RateLimit):
        self.limit = limit
        self.tokens = float(limit.burst)
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    @classmethod
    def for_channel(cls, key: str, limit: RateLimit) -> "RateLimiter":
        with cls._registry_lock:
            bucket = cls._buckets.get(key)
            if bucket is None or bucket.limit != limit:
                bucket = cls._buckets[key] = cls(limit)
            return bucket

    def acquire(self) -> None:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.limit.burst, self.tokens + (now - self.stamp) * self.limit.per_second)
            self.stamp = now
            wait = 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.limit.per_second
            self.tokens -= 1
        if wait > 0:
            time.sleep(wait)


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


class HttpClient:
    """One pooled `requests.Session` per connector instance."""

    def __init__(
        self,
        *,
        channel: str,
        base_url: str,
        auth: requests.auth.AuthBase | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        retry: RetryPolicy = RetryPolicy(),
        rate_limit: RateLimit | None = None,
        refresh_auth: Callable[[], None] | None = None,
        error_reason: Callable[[requests.Response], str] | None = None,
        retry_after: Callable[[requests.Response], float | None] | None = None,
        headers: dict[str, str] | None = None,
        pool_size: int = 10,
    ):
        self.channel, self.base_url = channel, base_url.rstrip("/") + "/"
        self.auth, self.timeout, self.retry = auth, timeout, retry
        self.limiter = RateLimiter.for_channel(channel, rate_limit) if rate_limit else None
        self.refresh_auth = refresh_auth
        self.error_reason = error_reason or _default_error_reason
        self.retry_after = retry_after or (lambda r: parse_retry_after(r.headers.get("Retry-After")))
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "Switchyard/0.1"})
        self.session.headers.update(headers or {})
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        # requests reads the environment (proxy variables and their bypass list, a CA bundle, ~/.netrc) again on
        # every call: about a tenth of a worker's CPU in the day bench. The proxies are resolved once per host
        # and the CA bundle once here, as requests would; no ~/.netrc: a channel's credentials are its own.
        self.session.trust_env = False
        self.session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self._proxies: dict[str, dict[str, str]] = {}

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else urljoin(self.base_url, path.lstrip("/"))

    def proxies(self, url: str) -> dict[str, str]:
        """The environment's proxies for the URL's host (none when NO_PROXY names it), read once per host."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._proxies:
            self._proxies[origin] = requests.utils.get_environ_proxies(origin)
        return self._proxies[origin]

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        safe_to_retry: bool | None = None,
        auth: requests.auth.AuthBase | None = None,
        ok_statuses: Iterable[int] = (),
    ) -> requests.Response:
        """Send one call; retry it where that cannot repeat a side effect; raise a ChannelError otherwise."""
        method = method.upper()
        retry_safe = method in IDEMPOTENT_METHODS if safe_to_retry is None else safe_to_retry
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send(method, path, params, json_body, data, headers, auth, attempt)
            except TransportError as exc:
                # Nothing reached the server when the connection failed: always safe to try again.
                if attempt < self.retry.attempts and (retry_safe or not exc.outcome_unknown):
                    self._sleep(attempt, None)
                    continue
                raise
            status = response.status_code
            if status < 400 or status in ok_statuses:
                return response
            if status == 401 and self.refresh_auth and not refreshed:
                refreshed = True
                self.refresh_auth()
                attempt -= 1
                continue
            # 429 means the call was refused unprocessed, so it is safe to repeat for any method.
            if status in RETRY_STATUSES and attempt < self.retry.attempts and (retry_safe or status == 429):
                self._sleep(attempt, self.retry_after(response) if status in (429, 503) else None)
                continue
            raise self._error(response, method, path)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def json(self, response: requests.Response) -> Any:
        """The body as JSON, or BadResponse naming the call."""
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise BadResponse(
                "the response is not valid JSON",
                channel=self.channel,
                method=response.request.method or "",
                path=_path_of(response.request.url or ""),
                status=response.status_code,
            ) from None

    def close(self) -> None:
        self.session.close()

    def _send(self, method, path, params, json_body, data, headers, auth, attempt) -> requests.Response:
        if self.limiter:
            self.limiter.acquire()
        url = self.url(path)
        started = time.perf_counter()
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=json_body,
                data=data,
                headers=headers,
                auth=auth or self.auth,
                timeout=self.timeout,
                proxies=self.proxies(url),
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            # A connect failure or connect timeout never reached the server; anything else may have.
            sent = not isinstance(exc, requests.ConnectTimeout) and not _is_connect_refused(exc)
            self._log(method, url, params, None, started, attempt, json_body if json_body is not None else data)
            reason = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
            raise TransportError(
                reason, outcome_unknown=sent, channel=self.channel, method=method, path=_path_of(url)
            ) from None
        _remember_credential(response.request.headers.get("Authorization"))
        self._log(method, response.url, None, response, started, attempt, json_body if json_body is not None else data)
        return response

    def _sleep(self, attempt: int, retry_after: float | None) -> None:
        wait = self.retry.backoff * (2 ** (attempt - 1))
        wait *= 1 + random.uniform(-self.retry.jitter, self.retry.jitter)
        if retry_after is not None:
            wait = max(wait, retry_after)
        time.sleep(min(wait, self.retry.max_wait))

    def _error(self, response: requests.Response, method: str, path: str) -> ChannelError:
        status = response.status_code
        kind: type[ChannelError] = {
            401: AuthFailed,
            403: AuthFailed,
            404: NotFound,
            409: Conflict,
            429: RateLimited,
        }.get(status, ServerError if status >= 500 else ClientError)
        try:
            reason = self.error_reason(response)
        except Exception:
            reason = ""
        reason = redact_text(reason or response.reason or f"HTTP {status}")[:300]
        return kind(reason, channel=self.channel, method=method, path=_path_of(path), status=status)

    def _log(self, method, url, params, response, started, attempt, body) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return
        elapsed = (time.perf_counter() - started) * 1000
        status = response.status_code if response is not None else "no response"
        query = f" params={redact_mapping(params)}" if params else ""
        sent_headers = response.request.headers if response is not None else {}
        log.debug(
            "%s %s%s -> %s in %.0fms (attempt %d) headers=%s body=%s",
            method,
            redact_text(url),
            query,
            status,
            elapsed,
            attempt,
            redact_mapping(dict(sent_headers)),
            redact_text(_body_text(body))[:500],
        )


def _remember_credential(authorization: str | bytes | None) -> None:
    """What an upstream may echo back is what it was sent: the Basic pair (base64) or Bearer token, exactly.
    OAuth 1 headers change with every request and are redacted by their parameter names instead."""
    text = authorization.decode("latin-1") if isinstance(authorization, bytes) else authorization or ""
    scheme, _, credential = text.partition(" ")
    if scheme in ("Basic", "Bearer"):
        secrets_remember([credential])


def _body_text(body: Any) -> str:
    if body is None:
        return "-"
    if isinstance(body, (dict, list)):
        return json.dumps(body, default=str)
    if isinstance(body, bytes):
        return body.decode(errors="replace")
    return str(body)


def _path_of(url: str) -> str:
    return urlsplit(url).path or url


def _is_connect_refused(exc: Exception) -> bool:
    text = repr(exc)
    return "ConnectionRefusedError" in text or "NewConnectionError" in text or "Failed to resolve" in text


def _default_error_reason(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return body_message(body)


# Where APIs put the sentence meant for a person, most specific first: OAuth's error_description before its
# error code, ChannelAdvisor's OData "Message", Spring's "detail", a nested {"error": {"message": …}}.
MESSAGE_KEYS = ("error_description", "message", "Message", "errorMessage", "detail", "title", "error", "Error")
LIST_KEYS = ("errors", "Errors", "details")


def body_message(body: Any) -> str:
    """The channel's own message in a JSON error body, however it nests it; never the repr of a dict or list.
    Empty when the body carries no text, so the caller falls back to the HTTP reason."""
    if isinstance(body, str | int | float) and not isinstance(body, bool):
        return str(body)[:300]
    if isinstance(body, list):
        return "; ".join(filter(None, (body_message(entry) for entry in body[:3])))
    if isinstance(body, dict):
        for key in (*MESSAGE_KEYS, *LIST_KEYS):
            text = body_message(body.get(key)) if body.get(key) else ""
            if text:
                return text
    return ""
