"""Payload checks for parsers: a missing or malformed field is a BadResponse that names it and the channel,
never a KeyError. Each connector holds one (`connector.reader`) and hands it to its `parse.py` functions, which
need nothing else of the connector."""

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.http import BadResponse


class PayloadReader:
    def __init__(self, label: str):
        self.label = label  # the channel, named in every error

    def field(self, obj: Any, name: str, where: str = "", *, kind: type | None = None) -> Any:
        if not isinstance(obj, Mapping):
            raise BadResponse(f"expected an object{_at(where)}, got {type(obj).__name__}", channel=self.label)
        if name not in obj or obj[name] is None:
            raise BadResponse(f"field '{name}' is missing{_at(where)}", channel=self.label)
        value = obj[name]
        if kind is not None and not isinstance(value, kind):
            raise BadResponse(f"field '{name}'{_at(where)} is not a {kind.__name__}", channel=self.label)
        return value

    def opt(self, obj: Mapping[str, Any], name: str, default: Any = "") -> Any:
        value = obj.get(name)
        return default if value is None else value

    def decimal(self, value: Any, name: str, where: str = "") -> Decimal:
        try:
            return Decimal(str(value))
        except (InvalidOperation, ValueError):
            raise BadResponse(f"field '{name}'{_at(where)} is not a number: {value!r}", channel=self.label) from None

    def integer(self, value: Any, name: str, where: str = "") -> int:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise BadResponse(f"field '{name}'{_at(where)} is not an integer: {value!r}", channel=self.label) from None

    def timestamp(self, value: Any, name: str, where: str = "") -> datetime | None:
        if value in (None, ""):
            return None
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise BadResponse(f"field '{name}'{_at(where)} is not a date: {value!r}", channel=self.label) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _at(where: str) -> str:
    return f" in {where}" if where else ""
