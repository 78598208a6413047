"""Splitting long sequences into fixed-size chunks, for every app (itertools.batched arrives in Python 3.12)."""

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[tuple[T, ...]]:
    """Tuples of `size` items (the last may be shorter), consuming `items` lazily."""
    iterator = iter(items)
    while chunk := tuple(islice(iterator, size)):
        yield chunk
