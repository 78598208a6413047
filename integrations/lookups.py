"""`field__among=values`: `field__in=values` for the hot paths' long key lists (a chunk's 2,000 SKUs), with the
list sent as one parameter.

Django's `__in` prepares every value through the field and builds a placeholder per value, in Python: about 5 ms
for 2,000 SKUs, which was a tenth of a catalog download at 100k (tests/benchmarks/bench_catalog_download.py).
On SQLite the list goes as one JSON array, `IN (SELECT value FROM json_each(%s))`, which still searches the
column's index value by value; elsewhere it is the ordinary `__in`. Values must be str or int (keys), stored as
given: no field preparation. An empty list matches nothing without a query, as `__in` does.
"""

import json
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject, Lookup
from django.db.models.lookups import In


class Among(Lookup):
    lookup_name = "among"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        return self.rhs  # no per-value preparation: the point of this lookup

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        values = list(self.rhs)
        if not values:
            raise EmptyResultSet
        if connection.vendor != "sqlite":
            sql, params = In(self.lhs, values).as_sql(compiler, connection)
            return sql, list(params)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} IN (SELECT value FROM json_each(%s))", [*lhs_params, json.dumps(values)]


Field.register_lookup(Among)
ForeignObject.register_lookup(Among)  # relations keep lookups of their own: `bundle_id__among=[ids]`
