"""ChannelAdvisor's OAuth2 refresh-token grant as a `requests` auth: a Bearer access token fetched on first
use, kept until shortly before it expires, and replaced when the API answers 401 (the transport's
`refresh_auth` hook calls `refresh`)."""

import threading
import time
from collections.abc import Callable

import requests

from integrations.redaction import secrets_remember

EARLY = 300.0  # renew five minutes before the hour is up (ShipWorks keeps CA tokens 50 of 60 minutes)


class TokenAuth(requests.auth.AuthBase):
    def __init__(self, grant: Callable[[], tuple[str, float]]):
        self._grant = grant  # -> (access token, lifetime in seconds)
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request

    def token(self) -> str:
        """The cached access token, or a new one when there is none or it is about to expire."""
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
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
        self._expires = time.monotonic() + max(lifetime - EARLY, lifetime / 2)
        return token
