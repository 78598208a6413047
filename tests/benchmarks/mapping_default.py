"""The baseline bench_mapping_import compares against: django-import-export's default, row-by-row import.

A plain ModelResource, as the library's documentation would have it: ForeignKeyWidgets resolve the
channel by slug and the item by SKU, `import_id_fields` finds an existing listing by (channel,
channel_sku), and each row is looked up, saved and (with transactions on, the setting we ship) wrapped
in its own savepoint. That is several queries per row, which is what `mapping_import` exists to avoid.
"""

import time

import tablib
from import_export import fields, resources, widgets

from catalog.models import Item, ItemMapping, MappingMethod, MappingStatus
from integrations.models import Channel


class DefaultMappingResource(resources.ModelResource):
    channel = fields.Field(attribute="channel", column_name="channel", widget=widgets.ForeignKeyWidget(Channel, "slug"))
    item = fields.Field(attribute="item", column_name="item_sku", widget=widgets.ForeignKeyWidget(Item, "sku"))

    class Meta:
        model = ItemMapping
        fields = ("channel", "channel_sku", "item")
        import_id_fields = ("channel", "channel_sku")

    def before_save_instance(self, instance: ItemMapping, row, **kwargs) -> None:
        instance.status = MappingStatus.MAPPED
        instance.method = MappingMethod.IMPORT


def default_import_seconds(csv_text: str) -> tuple[float, int]:
    """Import a CSV the library's default way; returns (seconds, rows), raising if any row failed."""
    dataset = tablib.Dataset().load(csv_text, format="csv")
    started = time.perf_counter()
    result = DefaultMappingResource().import_data(dataset, dry_run=False, use_transactions=True)
    seconds = time.perf_counter() - started
    if result.has_errors() or result.has_validation_errors():
        raise RuntimeError(f"default import failed: {result.row_errors()[:3] or result.invalid_rows[:3]}")
    return seconds, len(dataset)
