"""Admin messages go through redaction: a failure reason that quotes an upstream error never shows a secret."""

from typing import Any

from django.contrib.messages.storage.fallback import FallbackStorage
from django.utils.safestring import SafeData, mark_safe

from integrations.redaction import redact_text


class RedactingMessageStorage(FallbackStorage):
    """Django's default message storage, with every message redacted as it is added."""

    def add(self, level: int, message: Any, extra_tags: str | None = "") -> None:
        if message:
            redacted = redact_text(str(message))
            # Redaction only swaps text for "[redacted]", so a message built with format_html stays safe.
            message = mark_safe(redacted) if isinstance(message, SafeData) else redacted
        super().add(level, message, extra_tags)
