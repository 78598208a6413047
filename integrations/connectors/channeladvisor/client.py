"""What every ChannelAdvisor call stands on: the OAuth2 refresh-token grant, OData paging by
`@odata.nextLink`, and refetching entities whose expanded collections a list endpoint cut at 20 rows."""

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from requests.auth import HTTPBasicAuth

from integrations.connectors.base import Connector, CredentialSpec
from integrations.connectors.channeladvisor.auth import TokenAuth
from integrations.http import AuthFailed, BadResponse, ClientError, HttpClient, RateLimit, RetryPolicy, body_message

TOKEN_PATH = "/oauth2/token"
EXPANDED_LIMIT = 20  # CA cuts expanded collections on list endpoints at 20 rows
GRANT_HINTS = {
    "invalid_client": "check the application ID and shared secret",
    "invalid_grant": "the refresh token is not valid or was revoked: create a new one in the developer console",
}


class ChannelAdvisorClient(Connector):
    """The plumbing under ChannelAdvisorConnector (not a connector of its own)."""

    credentials_schema = (
        CredentialSpec("application_id", "Application ID from the ChannelAdvisor developer console."),
        CredentialSpec("shared_secret", "The application's shared secret."),
        CredentialSpec("refresh_token", "A refresh token created for the account in the developer console."),
    )

    def make_client(self, *, retry: RetryPolicy, timeout: tuple[float, float]) -> HttpClient:
        self.token_auth = TokenAuth(self._grant)
        return HttpClient(
            channel=self.label,
            base_url=self.base_url,
            auth=self.token_auth,
            refresh_auth=self.token_auth.refresh,
            retry=retry,
            timeout=timeout,
            rate_limit=_rate_limit(self.settings["requests_per_second"]),
        )

    def _grant(self) -> tuple[str, float]:
        missing = [spec.name for spec in self.credentials_schema if not self.credentials.get(spec.name)]
        if missing:
            raise AuthFailed(f"credential(s) not set: {', '.join(missing)}", channel=self.label)
        basic = HTTPBasicAuth(self.credentials["application_id"], self.credentials["shared_secret"])
        form = {"grant_type": "refresh_token", "refresh_token": self.credentials["refresh_token"]}
        # A token grant has no side effect worth guarding, so it may be repeated; 400/401 are read here.
        response = self.http.post(TOKEN_PATH, data=form, auth=basic, safe_to_retry=True, ok_statuses=(400, 401))
        if response.status_code in (400, 401):
            raise self._grant_refused(response)
        body = self.http.json(response)
        token = self.reader.field(body, "access_token", "the token response", kind=str)
        lifetime = self.reader.integer(self.reader.field(body, "expires_in", "the token response"), "expires_in")
        return token, float(lifetime)

    def _grant_refused(self, response: Any) -> AuthFailed:
        try:
            body = response.json()
        except ValueError:
            body = {}
        # OAuth answers {"error": "invalid_grant", "error_description": …}; a gateway may nest {"error": {…}}.
        error = body.get("error") if isinstance(body, Mapping) else None
        code = error if isinstance(error, str) else ""
        detail = body_message(body)
        hint = GRANT_HINTS.get(code, detail or "check the application ID, shared secret and refresh token")
        reason = f"ChannelAdvisor refused the credentials ({code or response.status_code}): {hint}"
        return AuthFailed(reason, channel=self.label, method="POST", path=TOKEN_PATH, status=response.status_code)

    def _pages(self, path: str, params: dict[str, str]) -> Iterator[dict]:
        """Every row of a list, following `@odata.nextLink` (absolute, on the API's own host) page by page."""
        url: str | None = path
        query: dict[str, str] | None = params
        seen: set[str] = set()
        headers = {"Prefer": f"odata.maxpagesize={self.settings['page_size']}"}
        while url:
            body = self.http.json(self.http.get(url, params=query, headers=headers))
            yield from self.reader.field(body, "value", f"the {path} page", kind=list)
            url, query = self._next_link(body, path, seen), None

    def _next_link(self, body: dict, path: str, seen: set[str]) -> str | None:
        link = body.get("@odata.nextLink")
        if not link:
            return None
        if not isinstance(link, str) or urlsplit(link).netloc != urlsplit(self.http.base_url).netloc:
            raise BadResponse(f"the {path} page links to another host: {link!r}", channel=self.label)
        if link in seen:
            raise BadResponse(f"the {path} pages loop back to {link!r}", channel=self.label)
        seen.add(link)
        return link

    def _complete(self, rows: Iterator[dict], path: str, params: dict[str, str]) -> Iterator[dict]:
        """Rows as listed, except those with a cut expanded collection: fetched again as single entities."""
        single = {k: v for k, v in params.items() if k in ("$expand", "$select")}
        for row in rows:
            if _cut(row):
                entity_id = self._id(str(self.reader.field(row, "ID", f"a row of {path}")))
                row = self.http.json(self.http.get(f"{path}({entity_id})", params=single))
            yield row

    def _id(self, value: str, what: str = "a ChannelAdvisor ID") -> int:
        """CA's numeric IDs only: anything else would change the path."""
        if not str(value).isdigit():
            raise ClientError(f"{value!r} is not {what}", channel=self.label)
        return int(value)


def _cut(row: Any) -> bool:
    """True when an expanded collection (at any depth) was cut at the list endpoint's 20-row limit."""
    if not isinstance(row, Mapping):
        return False
    for name, value in row.items():
        if name.endswith("@odata.nextLink"):
            return True
        if isinstance(value, list) and (len(value) >= EXPANDED_LIMIT or any(_cut(v) for v in value)):
            return True
    return False


def _rate_limit(per_second: float) -> RateLimit | None:
    """CA counts 2,000 requests a minute per profile: at the default 30/s, a burst of 100 plus a minute at
    the steady rate stays under it; a faster setting gets a burst of one second's worth."""
    if per_second <= 0:
        return None
    burst = 100 if per_second * 60 + 100 <= 2000 else max(1, int(per_second))
    return RateLimit(per_second=per_second, burst=burst)
