"""OAuth 1.0a request signing with HMAC-SHA1 (RFC 5849), shared by the NuORDER connector and its sandbox.

Two signature styles are in real use against NuORDER:
- RFC 5849: the percent-encoded base string `METHOD&enc(url)&enc(sorted params)` (query and form-body
  parameters included, JSON bodies not), keyed with `enc(consumer_secret)&enc(token_secret)`, base64.
- legacy NuORDER: `METHOD` + the URL without its query + `?oauth_consumer_key=…&oauth_token=…&oauth_timestamp=…
  &oauth_nonce=…&oauth_version=1.0&oauth_signature_method=HMAC-SHA1` in that fixed order, unencoded, with
  `&oauth_callback=…` / `&oauth_verifier=…` appended when present, keyed `consumer_secret&token_secret`, hex.
Only the standard library is used.
"""

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import requests

SIGNATURE_METHOD = "HMAC-SHA1"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_LEGACY_ORDER = ("oauth_consumer_key", "oauth_token", "oauth_timestamp", "oauth_nonce")
_HEX_SIGNATURE = re.compile(r"[0-9a-f]{40}")
_HEADER_PARAM = re.compile(r'\s*([^=\s,]+)\s*=\s*(?:"([^"]*)"|([^,]*))\s*(?:,|$)')


def percent_encode(value: str) -> str:
    """RFC 3986 percent-encoding of UTF-8 text: everything but ALPHA / DIGIT / - . _ ~."""
    return quote(value, safe="-._~")


def normalized_url(url: str) -> str:
    """The base string URI: lower-case scheme and host, default port dropped, no query or fragment."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    default_port = {"http": 80, "https": 443}.get(scheme)
    netloc = host if parts.port in (None, default_port) else f"{host}:{parts.port}"
    return f"{scheme}://{netloc}{parts.path or '/'}"


def normalized_parameters(pairs: Iterable[tuple[str, str]]) -> str:
    """Encode every name and value, sort by name then value, join as `name=value&…` (RFC 5849 3.4.1.3.2)."""
    encoded = sorted((percent_encode(name), percent_encode(value)) for name, value in pairs)
    return "&".join(f"{name}={value}" for name, value in encoded)


def request_parameters(url: str, body: bytes | str | None = None, content_type: str = "") -> list[tuple[str, str]]:
    """The query-string pairs, plus the body's pairs when it is form-encoded; never a JSON body."""
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    if body and content_type.split(";")[0].strip().lower() == FORM_CONTENT_TYPE:
        text = body.decode() if isinstance(body, bytes) else body
        pairs += parse_qsl(text, keep_blank_values=True)
    return pairs


def base_string(method: str, url: str, pairs: Iterable[tuple[str, str]]) -> str:
    """The RFC 5849 signature base string; `pairs` holds the request and oauth_* parameters (no signature)."""
    return "&".join((method.upper(), percent_encode(normalized_url(url)), percent_encode(normalized_parameters(pairs))))


def hmac_sha1_signature(text: str, consumer_secret: str, token_secret: str) -> str:
    """The RFC 5849 HMAC-SHA1 signature of a base string, base64-encoded."""
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}"
    return base64.b64encode(_hmac(key, text)).decode()


def legacy_base_string(method: str, url: str, oauth: Mapping[str, str]) -> str:
    """NuORDER's legacy base string: method, URL without query, the oauth_* values in a fixed order, unencoded."""
    parts = urlsplit(url)
    fixed = "&".join(f"{name}={oauth.get(name, '')}" for name in _LEGACY_ORDER)
    extra = "".join(f"&{name}={oauth[name]}" for name in ("oauth_callback", "oauth_verifier") if name in oauth)
    return (
        f"{method.upper()}{parts.scheme}://{parts.netloc}{parts.path}"
        f"?{fixed}&oauth_version=1.0&oauth_signature_method={SIGNATURE_METHOD}{extra}"
    )


def legacy_signature(text: str, consumer_secret: str, token_secret: str) -> str:
    """NuORDER's legacy signature: HMAC-SHA1 keyed `consumer_secret&token_secret`, hex digest."""
    return _hmac(f"{consumer_secret}&{token_secret}", text).hex()


def authorization_header(oauth: Mapping[str, str]) -> str:
    """`OAuth name="value",…` with every value percent-encoded."""
    return "OAuth " + ",".join(f'{name}="{percent_encode(str(value))}"' for name, value in oauth.items())


def parse_authorization_header(value: str) -> dict[str, str]:
    """The parameters of an `OAuth …` header (quoted or, as legacy clients send them, bare); realm dropped."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "oauth":
        return {}
    params = {}
    for match in _HEADER_PARAM.finditer(rest):
        name, quoted, bare = match.groups()
        params[unquote(name)] = unquote(quoted if quoted is not None else bare.strip())
    params.pop("realm", None)
    return params


class OAuth1(requests.auth.AuthBase):
    """Signs each request (each retry afresh) with a new nonce and timestamp; query and form params included."""

    def __init__(self, consumer_key: str, consumer_secret: str, token: str, token_secret: str, *, legacy: bool = False):
        self.consumer_key, self.token, self.legacy = consumer_key, token, legacy
        self._consumer_secret, self._token_secret = consumer_secret, token_secret

    def __repr__(self) -> str:
        return f"<OAuth1 {'legacy' if self.legacy else 'rfc5849'}>"

    def oauth_parameters(self) -> dict[str, str]:
        return {
            "oauth_consumer_key": self.consumer_key,
            "oauth_nonce": secrets.token_hex(16),
            "oauth_signature_method": SIGNATURE_METHOD,
            "oauth_timestamp": str(int(time.time())),
            "oauth_token": self.token,
            "oauth_version": "1.0",
        }

    def signature(self, method: str, url: str, oauth: Mapping[str, str], body=None, content_type: str = "") -> str:
        if self.legacy:
            return legacy_signature(legacy_base_string(method, url, oauth), self._consumer_secret, self._token_secret)
        pairs = [*request_parameters(url, body, content_type), *oauth.items()]
        return hmac_sha1_signature(base_string(method, url, pairs), self._consumer_secret, self._token_secret)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        oauth = self.oauth_parameters()
        content_type = request.headers.get("Content-Type", "")
        oauth["oauth_signature"] = self.signature(
            request.method or "GET", request.url or "", oauth, request.body, content_type
        )
        request.headers["Authorization"] = authorization_header(oauth)
        return request


class SignatureError(Exception):
    """The request's OAuth signature is missing, malformed, stale or wrong; the message says which."""


@dataclass(frozen=True)
class Verified:
    consumer_key: str
    token: str
    nonce: str
    timestamp: int
    style: str  # "rfc5849" | "legacy"


def verify_request(
    *,
    method: str,
    url: str,
    authorization: str,
    secrets_for: Callable[[str, str], tuple[str, str] | None],
    body: bytes | str | None = None,
    content_type: str = "",
    accept_legacy: bool = False,
    now: float | None = None,
    max_skew: int = 300,
) -> Verified:
    """Check a signed request; `secrets_for(consumer_key, token)` gives (consumer_secret, token_secret) or None."""
    oauth = parse_authorization_header(authorization or "")
    if not oauth:
        raise SignatureError("missing OAuth Authorization header")
    for name in ("oauth_consumer_key", "oauth_token", "oauth_nonce", "oauth_timestamp", "oauth_signature"):
        if not oauth.get(name):
            raise SignatureError(f"{name} is missing")
    if oauth.get("oauth_signature_method") != SIGNATURE_METHOD:
        raise SignatureError("oauth_signature_method must be HMAC-SHA1")
    if oauth.get("oauth_version", "1.0") != "1.0":
        raise SignatureError("oauth_version must be 1.0")
    timestamp = _timestamp(oauth["oauth_timestamp"], now, max_skew)
    found = secrets_for(oauth["oauth_consumer_key"], oauth["oauth_token"])
    if found is None:
        raise SignatureError("unknown consumer key or token")
    consumer_secret, token_secret = found
    given = oauth.pop("oauth_signature")
    pairs = [*request_parameters(url, body, content_type), *oauth.items()]
    style = "rfc5849"
    if not hmac.compare_digest(given, hmac_sha1_signature(base_string(method, url, pairs), *found)):
        if not _HEX_SIGNATURE.fullmatch(given):
            raise SignatureError("invalid signature")
        if not accept_legacy:
            raise SignatureError("legacy hex signatures are not accepted")
        expected = legacy_signature(legacy_base_string(method, url, oauth), consumer_secret, token_secret)
        if not hmac.compare_digest(given, expected):
            raise SignatureError("invalid signature")
        style = "legacy"
    return Verified(oauth["oauth_consumer_key"], oauth["oauth_token"], oauth["oauth_nonce"], timestamp, style)


def _timestamp(value: str, now: float | None, max_skew: int) -> int:
    try:
        timestamp = int(value)
    except ValueError:
        raise SignatureError("oauth_timestamp is not an integer") from None
    if abs((time.time() if now is None else now) - timestamp) > max_skew:
        raise SignatureError("oauth_timestamp is too far from the server's clock")
    return timestamp


def _hmac(key: str, text: str) -> bytes:
    return hmac.new(key.encode(), text.encode(), hashlib.sha1).digest()
