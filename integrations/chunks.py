"""Splitting long sequences into fixed-size chunks, for every app (itertools.batched arrives in Python 3.12)."""

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet

T = TypeVar("T")
M = TypeVar("M", bound="Model")


def batched(items: Iterable[T], size: int) -> Iterator[tuple[T, ...]]:
    """Tuples of `size` items (the last may be shorter), consuming `items` lazily."""
    iterator = iter(items)
    while chunk := tuple(islice(iterator, size)):
        yield chunk


def batched_groups(groups: Iterable[Sequence[T]], size: int) -> Iterator[list[T]]:
    """The groups' items in batches of about `size`, a group never split across two batches (a group larger than
    `size` is a batch of its own)."""
    batch: list[T] = []
    for group in groups:
        if batch and len(batch) + len(group) > size:
            yield batch
            batch = []
        batch.extend(group)
    if batch:
        yield batch


def rows_in_chunks(queryset: "QuerySet[M]", size: int = 200) -> Iterator[M]:
    """The queryset's rows in its order, each chunk of `size` read whole before the caller sees it: for loops
    that write as they go. `.iterator()` keeps its read open across those writes, and on SQLite a connection
    whose read began before another worker's commit cannot write at all ("database is locked" at once, whatever
    the busy timeout): the bench of a whole day lost most acknowledgement runs to it with four workers."""
    ids = list(queryset.values_list("pk", flat=True))
    for chunk in batched(ids, size):
        found = queryset.in_bulk(chunk)  # keeps the queryset's only() and select_related()
        yield from (found[pk] for pk in chunk if pk in found)
