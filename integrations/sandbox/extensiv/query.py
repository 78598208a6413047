"""Query-string helpers and the quota bucket of the Extensiv sandbox."""

import time
from datetime import datetime

from integrations.sandbox.server import HttpError, Request


class Quota:
    """A token bucket over every authenticated call."""

    def __init__(self, capacity: int, per_second: float, retry_after_ms: int | None):
        self.capacity, self.per_second, self.retry_after_ms = capacity, per_second, retry_after_ms
        self.tokens, self.stamp = float(capacity), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.per_second)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def page(request: Request, rows: list) -> list:
    """OM pages with `page` (1-based) and `limit`, answers a bare array, and an empty one past the end."""
    try:
        page, limit = int(request.q("page") or 1), int(request.q("limit") or 50)
    except ValueError:
        raise HttpError(400, "page and limit must be integers") from None
    if page < 1 or limit < 1:
        raise HttpError(400, "page and limit must be at least 1")
    return rows[(page - 1) * limit : page * limit]


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def when(request: Request, name: str) -> datetime | None:
    value = request.q(name)
    if not value:
        return None
    try:
        return parse(value)
    except ValueError:
        raise HttpError(400, f"{name} must be yyyy-MM-ddTHH:mm:ssZ") from None


def quoted_list(value: str | None) -> set[str] | None:
    """`sku="A","B"`: quoted, comma-joined master SKUs."""
    if value is None:
        return None
    return {part.strip().strip('"') for part in value.split(",") if part.strip()}
