"""Upserts on a natural key for the catalog downloads' hot path: rows as tuples, no model instances.

bulk_create(update_conflicts=True) builds a model per row and prepares every value in Python, which is most of a
download's time (tests/benchmarks/bench_catalog_download.py). Here the rows go to the database as they are:
- SQLite: one prepared `INSERT … ON CONFLICT (key) DO UPDATE` run for every row by `executemany` (the sqlite3
  module's C loop), about a sixth of bulk_create's cost;
- PostgreSQL: one `INSERT … SELECT FROM unnest(<one array per column>) ON CONFLICT …` per batch, about half of it
  (per-row statements, even pipelined, are slower there);
- any other database: bulk_create.
Columns the rows leave out get the model's default, `created_at` is stamped on insert and `updated_at` on every
write, as the ORM would. Values must already be what the column stores (a Decimal, a bool, a dict for JSON).
"""

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone

BATCH = 2000
STAMPS = ("created_at", "updated_at")


def upsert(
    model: type[models.Model],
    *,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    unique: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert `rows` (values in `columns` order; fields by name or attname) or, when a row's `unique` fields
    clash with an existing row, update that row's `update` fields (and `updated_at`)."""
    if not rows:
        return
    if connection.vendor not in ("sqlite", "postgresql"):
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model._default_manager.bulk_create(
            objects, update_conflicts=True, unique_fields=list(unique), update_fields=[*update, "updated_at"]
        )
        return
    statement = _Statement(model, columns, unique, update)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            statement.run(cursor, rows[start : start + BATCH])


class _Statement:
    def __init__(self, model: type[models.Model], columns: Sequence[str], unique: Sequence[str], update: Sequence[str]):
        meta, quote = model._meta, connection.ops.quote_name
        given = [meta.get_field(name) for name in columns]
        rest = [
            f
            for f in meta.concrete_fields
            if f not in given and not f.primary_key and not f.generated and f.name not in STAMPS
        ]
        self.fields = [*given, *rest]
        self.defaults = [f.get_default() for f in rest]
        self.json_at = [n for n, f in enumerate(self.fields) if isinstance(f, models.JSONField)]
        self.now = timezone.now()
        names = ", ".join([*(quote(f.column) for f in self.fields), *(quote(name) for name in STAMPS)])
        key = ", ".join(quote(meta.get_field(name).column) for name in unique)
        sets = [quote(meta.get_field(name).column) for name in update] + [quote("updated_at")]
        conflict = f"ON CONFLICT ({key}) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in sets)}"
        if connection.vendor == "sqlite":
            values = ", ".join(["%s"] * (len(self.fields) + len(STAMPS)))
            self.sql = f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({values}) {conflict}"
        else:
            # JSON travels as text and is cast per row: an array of jsonb needs every element adapted first.
            types = ["text" if n in self.json_at else f.db_type(connection) for n, f in enumerate(self.fields)]
            arrays = ", ".join(f"%s::{kind}[]" for kind in types)
            aliases = [f"c{n}" for n in range(len(self.fields))]
            picked = ", ".join(f"{a}::jsonb" if n in self.json_at else a for n, a in enumerate(aliases))
            self.sql = (
                f"INSERT INTO {quote(meta.db_table)} ({names}) SELECT {picked}, %s, %s "
                f"FROM unnest({arrays}) AS u({', '.join(aliases)}) {conflict}"
            )

    def run(self, cursor: Any, rows: Sequence[Sequence[Any]]) -> None:
        prepared = [self._values(row) for row in rows]
        if connection.vendor == "sqlite":
            now = connection.ops.adapt_datetimefield_value(self.now)
            cursor.executemany(self.sql, [(*row, now, now) for row in prepared])
        else:
            cursor.execute(self.sql, [self.now, self.now, *(list(column) for column in zip(*prepared, strict=True))])

    def _values(self, row: Sequence[Any]) -> list[Any]:
        values = [*row, *self.defaults]
        for n in self.json_at:
            values[n] = json.dumps(values[n], cls=self.fields[n].encoder)
        return values
