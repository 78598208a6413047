"""Secrets never reach a log line, a page or a stored error: one filter on every handler, and helpers that
redact text by pattern (a `token=…` in a query string, a `Bearer …` header) and by value (every credential the
process has decrypted or stored and every access token a connector obtained, wherever it appears)."""

import json
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

REDACTED = "[redacted]"
SECRET_NAMES = (
    "authorization",
    "token",
    "secret",
    "password",
    "passwd",
    "api_key",
    "apikey",
    "key",
    "signature",
    "credential",
    "refresh",
    "cookie",
)
# Secret only as a whole name: `code` (a one-time OAuth code) is a secret, `postal_code` is not.
EXACT_SECRET_NAMES = ("code", "oauth_verifier")
_NAME = r"(?:[A-Za-z0-9_\-.]*(?:" + "|".join(SECRET_NAMES) + r")[A-Za-z0-9_\-.]*|" + "|".join(EXACT_SECRET_NAMES) + ")"
# key=value in query strings and form bodies, "key": "value" in JSON, key="value" in OAuth headers; each with
# a text it cannot match without, checked first: the name patterns backtrack over every long word of a line.
_PATTERNS = [
    ('"', re.compile(r"(?i)(\"" + _NAME + r"\"\s*:\s*)\"[^\"]*\"")),
    ('="', re.compile(r"(?i)(\b" + _NAME + r"=)\"[^\"]*\"")),
    ("=", re.compile(r"(?i)([?&;\s,]" + _NAME + r"=)[^&\s,;\"]+")),
    ("=", re.compile(r"(?i)^(" + _NAME + r"=)[^&\s,;\"]+")),
    ("", re.compile(r"(?i)(\b(?:Bearer|Basic|OAuth)\s+)[^\s,]+")),
]
# Shorter values would blank out ordinary words everywhere (a test credential "stored"); real keys and tokens
# are longer.
MIN_SECRET_LENGTH = 8
# Secrets seen by this process (decrypted, stored, obtained). Bounded: a worker that runs for months renews
# tokens hourly; the oldest are forgotten first, long after they expired.
MAX_KNOWN = 5000


class _KnownSecrets:
    """The secret values to cut out of text, each with the spellings it takes in logs and errors."""

    def __init__(self) -> None:
        self._values: dict[str, None] = {}  # insertion-ordered set
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, values: Iterable[Any]) -> None:
        fresh = [v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH and v not in self._values]
        if not fresh:
            return
        with self._lock:
            for value in fresh:
                self._values[value] = None
            while len(self._values) > MAX_KNOWN:
                del self._values[next(iter(self._values))]
            self._pattern = None

    def redact(self, text: str) -> str:
        pattern = self._pattern or self._compile()
        return pattern.sub(REDACTED, text) if pattern is not None else text

    def _compile(self) -> re.Pattern[str] | None:
        with self._lock:
            forms = {form for value in self._values for form in _spellings(value)}
            if not forms:
                return None
            self._pattern = re.compile(_trie(forms))
            return self._pattern


def _trie(words: Iterable[str]) -> str:
    """One regex matching any of `words`, longest first (a whole value before one of its lines), built as a
    trie: a plain alternation of hundreds of tokens is tried token by token at every position of the text."""
    root: dict[str, dict] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _branches(root)


def _branches(node: dict[str, dict]) -> str:
    parts = []
    for char, child in sorted(node.items()):
        if not char:
            continue
        run = char
        while len(child) == 1 and "" not in child:  # a chain with no branch: one literal, not one group a char
            ((char, child),) = child.items()
            run += char
        parts.append(re.escape(run) + _branches(child))
    if not parts:
        return ""
    body = parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"
    return f"(?:{body})?" if "" in node else body


def _spellings(value: str) -> set[str]:
    """The value as it appears raw, JSON- or repr-escaped, URL-encoded, each of its lines on its own (a token
    with a newline in it is logged over two lines), and a URL's path on its own."""
    forms = {
        value,
        json.dumps(value)[1:-1],
        value.encode("unicode_escape").decode(),
        quote(value, safe=""),
        quote_plus(value),
    }
    forms.update(line.strip() for line in re.split(r"[\r\n]+", value))
    if value.startswith(("https://", "http://")):
        # A URL that is a secret (a Slack-style webhook) is secret by its path: logged or quoted without its host.
        parts = urlsplit(value)
        forms.update({parts.path, f"{parts.path}?{parts.query}" if parts.query else parts.path})
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


_known = _KnownSecrets()


def secrets_remember(values: Iterable[Any] | Mapping[str, Any]) -> None:
    """Redact these values (a credentials dict's values, or an obtained token) from every text from now on."""
    _known.add(values.values() if isinstance(values, Mapping) else values)


def is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return lowered in EXACT_SECRET_NAMES or any(part in lowered for part in SECRET_NAMES)


def redact_text(text: str) -> str:
    """`text` with every known secret value and every secret-looking `name=value` replaced by [redacted]."""
    text = _known.redact(text)
    for needle, pattern in _PATTERNS:
        if needle not in text:
            continue
        text = pattern.sub(lambda m: m.group(1) + (REDACTED if not m.group(0).endswith('"') else f'"{REDACTED}"'), text)
    return text


def redact_values(data: Any) -> Any:
    """A JSON-like structure with every known secret value cut out of its strings (keys and shape kept)."""
    if isinstance(data, str):
        return _known.redact(data)
    if isinstance(data, Mapping):
        return {key: redact_values(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [redact_values(value) for value in data]
    return data


def redact_mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (REDACTED if is_secret_name(str(k)) else v) for k, v in values.items()}


class RedactSecretsFilter(logging.Filter):
    """Rewrites every record's message and traceback with secrets redacted, whatever logger produced it."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        # A traceback quotes the exception's text and the source lines around it: format it here, redacted,
        # so the handler's formatter uses this text instead of formatting the exception again.
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True
