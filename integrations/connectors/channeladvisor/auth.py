"""ChannelAdvisor's OAuth2 refresh-token grant as a `requests` auth: a Bearer access token fetched on first
use, kept until shortly before it expires, and replaced when the API answers 401 (the transport's
`refresh_auth` hook calls `refresh`).

The token outlives the connector: a token handed in (`kept`, read from the channel's encrypted credentials) is
used until its time is up, and each new one goes to `keep` with the wall-clock time it may be used until, so
the next run and the other workers reuse it instead of asking CA for another (one per hour, not one per run)."""

import threading
import time
from collections.abc import Callable

import requests

from integrations.redaction import secrets_remember

EARLY = 300.0  # renew five minutes before the hour is up (ShipWorks keeps CA tokens 50 of 60 minutes)


class TokenAuth(requests.auth.AuthBase):
    def __init__(
        self,
        grant: Callable[[], tuple[str, float]],
        *,
        kept: tuple[str, float] | None = None,
        keep: Callable[[str, float], None] | None = None,
    ):
        self._grant = grant  # -> (access token, lifetime in seconds)
        self._keep = keep  # (access token, usable until: epoch seconds) -> stored for the next run
        self._token: str | None = kept[0] if kept and kept[0] else None
        self._until = kept[1] if self._token and kept else 0.0
        self._lock = threading.Lock()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request

    def token(self) -> str:
        """The kept access token, or a new one when there is none or it is about to expire."""
        with self._lock:
            if self._token is None or time.time() >= self._until:
                return self._renew()
            return self._token

    def refresh(self) -> None:
        """Replace the token now (the API said 401: expired or revoked early)."""
        with self._lock:
            self._renew()

    def _renew(self) -> str:
        token, lifetime = self._grant()
        secrets_remember([token])  # obtained, never stored: only this process can redact it
        self._token = token
        # Never keep a short-lived token past half its life, nor a long one into its last five minutes.
        self._until = time.time() + max(lifetime - EARLY, lifetime / 2)
        if self._keep is not None:
            self._keep(token, self._until)
        return token
