"""Payload checks for parsers: a missing or malformed field is a BadResponse that names it and the channel,
never a KeyError. Each connector holds one (`connector.reader`) and hands it to its `parse.py` functions, which
need nothing else of the connector.

A `RowShape` is the fast path for long lists of flat rows (an inventory page): it takes a well-formed row's
fields in one step and hands anything else to the parser's field-by-field checks, so a bad row is reported
exactly as before and a good one costs no per-field checks, error-context strings or exceptions."""

import dataclasses
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, TypeVar, cast

from integrations.http import BadResponse

T = TypeVar("T")


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


class RowShape:
    """Rows whose every named field is present with exactly the JSON type given (str, int, bool, ...).

    `values(row)` returns the fields in the order named, or None when the row is not a dict of that exact shape
    (a field missing or null, a number sent as a string, a bool where an int is expected): the caller then
    runs its checked path, which accepts what it accepts and names what it refuses. The check is compiled
    once per shape into straight-line code (one lookup and one type test per field, no loop, no exception on
    a good row), as dataclasses compile their __init__.
    """

    def __init__(self, **fields: type):
        self.names = tuple(fields)
        self.kinds = tuple(fields.values())
        if not self.names or not all(name.isidentifier() for name in self.names):
            raise ValueError(f"a RowShape needs field names that are identifiers: {self.names}")
        local = [f"v{n}" for n in range(len(self.names))]
        source = "\n".join(
            [
                "def values(row):",
                "    if type(row) is not dict:",
                "        return None",
                "    get = row.get",
                *(f"    {v} = get({name!r})" for v, name in zip(local, self.names, strict=True)),
                "    if " + " and ".join(f"type({v}) is k{n}" for n, v in enumerate(local)) + ":",
                f"        return ({', '.join(local)},)",
                "    return None",
            ]
        )
        namespace: dict[str, Any] = {f"k{n}": kind for n, kind in enumerate(self.kinds)}
        exec(compile(source, f"<RowShape {', '.join(self.names)}>", "exec"), namespace)
        self.values: Callable[[Any], tuple[Any, ...] | None] = namespace["values"]


def record_maker(cls: type[T]) -> Callable[..., T]:
    """A positional constructor for a frozen dataclass, for the fast path: it writes the fields straight into the
    new instance's __dict__ instead of the generated __init__'s object.__setattr__ per field (about 3x faster).
    The instance is the same (equal, hashed alike, still frozen). Where that would not hold (slots, a
    __post_init__, a field left out of __init__) it is the class itself. Every field is passed, in order."""
    fields = dataclasses.fields(cast(Any, cls))
    if "__slots__" in vars(cls) or hasattr(cls, "__post_init__") or not all(f.init for f in fields):
        return cls
    names = [f.name for f in fields]
    source = "\n".join(
        [
            f"def make({', '.join(names)}):",
            "    record = new(cls)",
            "    attrs = record.__dict__",
            *(f"    attrs[{name!r}] = {name}" for name in names),
            "    return record",
        ]
    )
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    exec(compile(source, f"<record_maker {cls.__name__}>", "exec"), namespace)
    return namespace["make"]


@lru_cache(maxsize=4096)
def utc_timestamp(value: str) -> datetime | None:
    """An ISO 8601 timestamp (a trailing Z allowed) as an aware datetime, UTC when it names no zone; None when
    it does not parse, for the caller's checked path to report. Equal to PayloadReader.timestamp's result.
    Cached: a page's rows often share their stamps, and a datetime is immutable."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _at(where: str) -> str:
    return f" in {where}" if where else ""
