"""The floor for bench_mapping_import: the least work that turns the benchmark CSV into mappings.

Runs in its own process (`manage.py shell -c "from tests.benchmarks.mapping_floor import main; main(...)"`):
read the CSV with the csv module, look every item up in a dict prefetched with one query, and
bulk_create the rows in one transaction. No checks, no upsert, no error report: nothing a real import
could skip. Prints `floor_seconds=<work time>` (Django start-up excluded, as it is for the import side).
"""

import csv
import time

from django.db import transaction

from catalog.models import Item, ItemMapping, MappingMethod, MappingStatus
from integrations.models import Channel


def main(path: str, channel_slug: str) -> None:
    started = time.perf_counter()
    channel_id = Channel.objects.get(slug=channel_slug).pk
    item_ids = dict(Item.objects.values_list("sku", "pk"))
    with open(path, newline="", encoding="utf-8-sig") as stream:
        reader = csv.reader(stream)
        next(reader)
        mappings = [
            ItemMapping(
                channel_id=channel_id,
                channel_sku=row[1],
                item_id=item_ids[row[2]],
                status=MappingStatus.MAPPED,
                method=MappingMethod.IMPORT,
            )
            for row in reader
        ]
    with transaction.atomic():
        ItemMapping.objects.bulk_create(mappings, batch_size=5000)
    print(f"floor_seconds={time.perf_counter() - started:.3f}", flush=True)
