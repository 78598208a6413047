"""The two raw-SQL bulk writers of the hot paths, rows as plain values (no model instances), each value
adapted by one rule: JSON is encoded by the backend (`adapt_json_value`), except inside PostgreSQL's unnest
arrays, which carry it as text cast back per row.

- `rows_insert`: one multi-row INSERT (`executemany`) of dicts, for the order ingest's two big tables.
  `bulk_create` spends most of its time building model instances and preparing each value through the field
  machinery (about 5 µs a value: 10,000 lines of 13 columns were most of an ingest). The rows here are dicts of
  values the ingest made itself, so only three kinds of value need the backend's adaptation (JSON, datetimes,
  decimals); everything else goes to the driver as it is, and a missing column takes the field's default. No ids
  come back: callers that need them read them afterwards with one query on the natural key.
- `upsert`: insert-or-update on a natural key of tuples, for the catalog downloads and the mapping import.
  bulk_create(update_conflicts=True) builds a model per row and prepares every value in Python, which is most of
  a download's time (tests/benchmarks/bench_catalog_download.py). Here the rows go to the database as they are:
  SQLite: one prepared `INSERT … ON CONFLICT (key) DO UPDATE` run for every row by `executemany` (the sqlite3
  module's C loop), about a sixth of bulk_create's cost; PostgreSQL: one `INSERT … SELECT FROM unnest(<one
  array per column>) ON CONFLICT …` per batch, about half of it (per-row statements, even pipelined, are slower
  there); any other database: bulk_create. Columns the rows leave out get the model's default, `created_at` is
  stamped on insert and `updated_at` on every write, as the ORM would (where the model has them). Values must
  already be what the column stores (a Decimal, a bool, a dict for JSON).
- `insert_ids`: the same INSERT without a conflict, returning the new ids in the rows' order, for the inventory
  outbox (a push intent per changed quantity: its bulk_create was a tenth of a worker's time in the day bench).
  PostgreSQL: the unnest INSERT … RETURNING id (the order bulk_create relies on too); elsewhere: bulk_create.
"""

import enum
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from django.db import connection, connections, models, router
from django.utils import timezone

BATCH = 2000
STAMPS = ("created_at", "updated_at")


def rows_insert(rows: Sequence[Mapping[str, Any]], *, model: type[models.Model], fields: Sequence[str] = ()) -> int:
    """INSERT rows (values by attribute name) into `fields` (default: every concrete column but the auto id)."""
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    columns = [_column(meta, name) for name in fields] or [
        f for f in meta.concrete_fields if not f.primary_key and not f.generated
    ]
    if not rows:
        return 0
    adapters = [(f.attname, f.get_default(), _adapter(f, connection)) for f in columns]
    values = [tuple(adapt(row.get(name, default)) for name, default, adapt in adapters) for row in rows]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(meta.db_table), ", ".join(quote(f.column) for f in columns), ", ".join(["%s"] * len(columns))
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)
    return len(values)


def _adapter(field: models.Field, connection: Any) -> Callable[[Any], Any]:
    ops = connection.ops
    if isinstance(field, models.JSONField):
        return _json_adapter(field, connection, text=False)
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DecimalField):
        return lambda value: ops.adapt_decimalfield_value(value, field.max_digits, field.decimal_places)
    return _same


def _same(value: Any) -> Any:
    return value


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
    statement = _Statement(model, columns, unique=unique, update=update)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            statement.run(cursor, rows[start : start + BATCH])


def insert_ids(model: type[models.Model], *, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[int]:
    """Insert `rows` (values in `columns` order); the new rows' ids, in the same order."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        return [obj.pk for obj in model._default_manager.bulk_create(objects, batch_size=1000)]
    statement = _Statement(model, columns, returning=True)
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            statement.run(cursor, rows[start : start + BATCH])
            ids.extend(pk for (pk,) in cursor.fetchall())
    return ids


class _Statement:
    def __init__(
        self,
        model: type[models.Model],
        columns: Sequence[str],
        *,
        unique: Sequence[str] = (),
        update: Sequence[str] = (),
        returning: bool = False,
    ):
        meta, quote = model._meta, connection.ops.quote_name
        given = [_column(meta, name) for name in columns]
        stamps = [name for name in STAMPS if any(f.name == name for f in meta.concrete_fields)]
        rest = [
            f
            for f in meta.concrete_fields
            if f not in given and not f.primary_key and not f.generated and f.name not in stamps
        ]
        self.fields = [*given, *rest]
        # A choices default (an enum member) goes as its value, as the field would prepare it.
        self.defaults = [_plain(f.get_default()) for f in rest]
        self.stamps = len(stamps)
        self.json_at = [n for n, f in enumerate(self.fields) if isinstance(f, models.JSONField)]
        # SQLite binds JSON as the backend adapts it; PostgreSQL's unnest arrays need it as text (cast per row).
        self.adapt = {
            n: _json_adapter(self.fields[n], connection, text=connection.vendor != "sqlite") for n in self.json_at
        }
        if connection.vendor == "sqlite":  # psycopg takes datetimes and decimals as they are; sqlite3 does not
            kinds = (models.DateTimeField, models.DecimalField)
            self.adapt |= {n: _adapter(f, connection) for n, f in enumerate(self.fields) if isinstance(f, kinds)}
        self.now = timezone.now()
        names = ", ".join([*(quote(f.column) for f in self.fields), *(quote(name) for name in stamps)])
        conflict = ""
        if unique:
            key = ", ".join(quote(_column(meta, name).column) for name in unique)
            sets = [quote(_column(meta, name).column) for name in update]
            sets += [quote(name) for name in stamps if name == "updated_at"]
            conflict = f"ON CONFLICT ({key}) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in sets)}"
        if returning:
            conflict += f" RETURNING {quote(meta.pk.column)}"
        if connection.vendor == "sqlite":
            values = ", ".join(["%s"] * (len(self.fields) + len(stamps)))
            self.sql = f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({values}) {conflict}"
        else:
            # JSON travels as text and is cast per row: an array of jsonb needs every element adapted first.
            types = ["text" if n in self.json_at else f.db_type(connection) for n, f in enumerate(self.fields)]
            arrays = ", ".join(f"%s::{kind}[]" for kind in types)
            aliases = [f"c{n}" for n in range(len(self.fields))]
            picked = ", ".join(f"{a}::jsonb" if n in self.json_at else a for n, a in enumerate(aliases))
            self.sql = (
                f"INSERT INTO {quote(meta.db_table)} ({names}) SELECT {picked}{', %s' * len(stamps)} "
                f"FROM unnest({arrays}) AS u({', '.join(aliases)}) {conflict}"
            )

    def run(self, cursor: Any, rows: Sequence[Sequence[Any]]) -> None:
        prepared = [self._values(row) for row in rows]
        if connection.vendor == "sqlite":
            now = (connection.ops.adapt_datetimefield_value(self.now),) * self.stamps
            cursor.executemany(self.sql, [(*row, *now) for row in prepared])
        else:
            columns = (list(column) for column in zip(*prepared, strict=True))
            cursor.execute(self.sql, [*(self.now,) * self.stamps, *columns])

    def _values(self, row: Sequence[Any]) -> list[Any]:
        values = [*row, *self.defaults]
        for n, adapt in self.adapt.items():
            values[n] = adapt(values[n])
        return values


def _json_adapter(field: Any, connection: Any, *, text: bool) -> Callable[[Any], Any]:
    """The one JSON rule: the backend's own adaptation (json.dumps with the field's encoder on SQLite, a Jsonb
    wrapper on PostgreSQL), or the same dumps as text where a text array carries it."""
    if text:
        return lambda value: json.dumps(value, cls=field.encoder)
    ops = connection.ops  # bound once: `connection` is a per-thread proxy, and this runs per row
    return lambda value: ops.adapt_json_value(value, field.encoder)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _column(meta: Any, name: str) -> models.Field:
    """A concrete column by field name or attname (never a reverse relation or a generic key here)."""
    return cast(models.Field, meta.get_field(name))
