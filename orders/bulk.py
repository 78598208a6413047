"""One multi-row INSERT (`executemany`) for the ingest's two big tables.

`bulk_create` spends most of its time building model instances and preparing each value through the field
machinery (about 5 µs a value: 10,000 lines of 13 columns were most of an ingest). The rows here are dicts
of values the ingest made itself, so only three kinds of value need the backend's adaptation (JSON,
datetimes, decimals); everything else goes to the driver as it is, and a missing column takes the field's
default. No ids come back: callers that need them read them afterwards with one query on the natural key.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import connections, models, router


def rows_insert(rows: Sequence[Mapping[str, Any]], *, model: type[models.Model], fields: Sequence[str] = ()) -> int:
    """INSERT rows (values by attribute name) into `fields` (default: every concrete column but the auto id)."""
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    columns = [meta.get_field(name) for name in fields] or [
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
        return lambda value: ops.adapt_json_value(value, field.encoder)
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DecimalField):
        return lambda value: ops.adapt_decimalfield_value(value, field.max_digits, field.decimal_places)
    return _same


def _same(value: Any) -> Any:
    return value
