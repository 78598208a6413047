"""Building OData `$filter` clauses the way ChannelAdvisor reads them: quoted strings with '' escapes,
bare UTC dates, and `or` groups for lists of values."""

from collections.abc import Callable, Iterable
from datetime import UTC, datetime


def quote(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def utc(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("ChannelAdvisor dates are UTC: pass an aware datetime")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def any_of(name: str, values: Iterable, literal: Callable[[str], str] = quote) -> str:
    """`(Name eq 'a' or Name eq 'b')`, or "" for no values (no restriction)."""
    terms = [f"{name} eq {literal(v)}" for v in values]
    if len(terms) <= 1:
        return "".join(terms)
    return "(" + " or ".join(terms) + ")"


def all_of(*clauses: str) -> str:
    return " and ".join(c for c in clauses if c)


def number(value: str) -> str:
    return str(int(value))
