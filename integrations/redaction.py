"""Secrets never reach a log line: one filter on every handler, and helpers the transport uses to
redact headers, query strings and bodies before it logs them."""

import logging
import re
from collections.abc import Mapping
from typing import Any

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
# key=value in query strings and form bodies, "key": "value" in JSON, key="value" in OAuth headers.
_PATTERNS = [
    re.compile(r"(?i)(\"" + _NAME + r"\"\s*:\s*)\"[^\"]*\""),
    re.compile(r"(?i)(\b" + _NAME + r"=)\"[^\"]*\""),
    re.compile(r"(?i)([?&;\s,]" + _NAME + r"=)[^&\s,;\"]+"),
    re.compile(r"(?i)^(" + _NAME + r"=)[^&\s,;\"]+"),
    re.compile(r"(?i)(\b(?:Bearer|Basic|OAuth)\s+)[^\s,]+"),
]


def is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return lowered in EXACT_SECRET_NAMES or any(part in lowered for part in SECRET_NAMES)


def redact_text(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + (REDACTED if not m.group(0).endswith('"') else f'"{REDACTED}"'), text)
    return text


def redact_mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (REDACTED if is_secret_name(str(k)) else v) for k, v in values.items()}


class RedactSecretsFilter(logging.Filter):
    """Rewrites every record's final message with secrets redacted, whatever logger produced it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
