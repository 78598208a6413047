"""Order Manager auth: a long-lived Bearer access token, read at send time; an app install's one-time code is
exchanged for one at OM's app host (ExtensivConnector.token_exchange)."""

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests


class BearerToken(requests.auth.AuthBase):
    """Reads the token at send time, so a token obtained by token_exchange is used at once."""

    def __init__(self, credentials: dict[str, Any]):
        self.credentials = credentials

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.credentials.get('access_token', '')}"
        return request


def auth_url(base_url: str, auth_base_url: str, path: str) -> str:
    """The URL of `path` on OM's app host: the auth_base_url setting, else derived from the API host."""
    base = auth_base_url
    if not base:  # api.skubana.com → app.skubana.com; any other host (the sandbox) serves both
        parts = urlsplit(base_url)
        host = "app." + parts.netloc[4:] if parts.netloc.startswith("api.") else parts.netloc
        base = urlunsplit((parts.scheme, host, "/", "", ""))
    return base.rstrip("/") + "/" + path
