"""Spreadsheet import/export (django-import-export) of stock levels and incoming supply, and the export of the
discrepancy report. Items are named by SKU and warehouses by code; cells that a spreadsheet would run as a
formula are neutralised on export and restored on import. Imports look up items, warehouses and existing rows
once per file (not per row) and write in bulk."""

from typing import Any

from import_export import fields, resources, widgets

from catalog.models import Item
from catalog.spreadsheets import cell_neutralise, cell_restore
from inventory.models import Discrepancy, IncomingSupply, StockLevel, Warehouse

LOOKUP_CHUNK = 500


class SafeText(widgets.CharWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        return cell_restore(str(super().clean(value, row, **kwargs) or ""))

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        return cell_neutralise(str(super().render(value, obj, **kwargs) or ""))


class PrefetchedKey(widgets.ForeignKeyWidget):
    """A foreign key by a natural key, resolved from a dictionary the resource fills once per file."""

    def __init__(self, model: type, field: str):
        super().__init__(model, field)
        self.known: dict[str, Any] = {}

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        key = cell_restore(str(value or "").strip())
        if not key:
            raise ValueError(f"the {self.field} is missing")
        if key not in self.known:
            raise ValueError(f"no {self.model._meta.verbose_name} with {self.field} {key!r}")
        return self.known[key]

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        return cell_neutralise(str(super().render(value, obj, **kwargs) or ""))

    def prefetch(self, keys: set[str]) -> None:
        keys = sorted(cell_restore(str(k or "").strip()) for k in keys)
        self.known = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start : start + LOOKUP_CHUNK]
            self.known.update(
                {getattr(o, self.field): o for o in self.model.objects.filter(**{f"{self.field}__in": chunk})}
            )


class PrefetchedResource(resources.ModelResource):
    """Finds the rows a file updates with one query per chunk of keys instead of one per row."""

    key_fields: tuple[str, ...] = ()

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        for name in ("item", "warehouse"):
            field = self.fields[name]
            field.widget.prefetch(set(dataset[field.column_name]) if field.column_name in dataset.headers else set())
        self.existing = {}
        items = sorted(item.pk for item in self.fields["item"].widget.known.values())
        for start in range(0, len(items), LOOKUP_CHUNK):
            for obj in self._meta.model.objects.filter(item_id__in=items[start : start + LOOKUP_CHUNK]):
                self.existing[tuple(obj.serializable_value(name) for name in self.key_fields)] = obj

    def get_instance(self, instance_loader: Any, row: Any) -> Any:
        try:
            values = [self.fields[name].clean(row) for name in self.key_fields]
        except ValueError:
            return None
        return self.existing.get(tuple(getattr(v, "pk", v) for v in values))


class StockLevelResource(PrefetchedResource):
    item = fields.Field(attribute="item", column_name="item_sku", widget=PrefetchedKey(Item, "sku"))
    warehouse = fields.Field(attribute="warehouse", column_name="warehouse", widget=PrefetchedKey(Warehouse, "code"))
    key_fields = ("item", "warehouse")

    class Meta:
        model = StockLevel
        fields = ("item", "warehouse", "on_hand", "allocated", "available", "updated_at")
        import_id_fields = ("item", "warehouse")
        skip_unchanged = True
        use_bulk = True
        batch_size = 1000

    @classmethod
    def get_display_name(cls) -> str:
        return "Stock levels"


class IncomingSupplyResource(PrefetchedResource):
    item = fields.Field(attribute="item", column_name="item_sku", widget=PrefetchedKey(Item, "sku"))
    warehouse = fields.Field(attribute="warehouse", column_name="warehouse", widget=PrefetchedKey(Warehouse, "code"))
    purchase_order = fields.Field(attribute="purchase_order", column_name="purchase_order", widget=SafeText())
    key_fields = ("warehouse", "purchase_order", "item")

    class Meta:
        model = IncomingSupply
        fields = ("item", "warehouse", "purchase_order", "quantity", "expected_date")
        import_id_fields = ("warehouse", "purchase_order", "item")
        skip_unchanged = True
        use_bulk = True
        batch_size = 1000

    @classmethod
    def get_display_name(cls) -> str:
        return "Incoming supply"


class DiscrepancyResource(resources.ModelResource):
    """The discrepancy report as a spreadsheet: one row per listing and channel warehouse."""

    channel = fields.Field(attribute="channel__name", column_name="channel", widget=SafeText())
    listing = fields.Field(attribute="mapping__channel_sku", column_name="channel_sku", widget=SafeText())
    item = fields.Field(attribute="mapping__item__sku", column_name="item_sku", widget=SafeText())
    channel_warehouse = fields.Field(
        attribute="channel_warehouse__name", column_name="channel_warehouse", widget=SafeText()
    )
    difference = fields.Field(column_name="difference")

    class Meta:
        model = Discrepancy
        fields = (
            "channel", "listing", "item", "channel_warehouse", "hub_quantity", "channel_quantity", "difference",
            "last_pushed", "last_pushed_at", "found_at",
        )  # fmt: skip
        export_order = fields

    @classmethod
    def get_display_name(cls) -> str:
        return "Discrepancies"

    def dehydrate_difference(self, row: Discrepancy) -> Any:
        return "" if row.difference is None else row.difference
