"""Spreadsheet import/export (django-import-export) of stock levels and incoming supply, and the export of the
discrepancy report. Items are named by SKU and warehouses by code; cells that a spreadsheet would run as a
formula are neutralised on export and restored on import. Imports look up items, warehouses and existing rows
once per file (not per row) and write in bulk."""

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from import_export import fields, resources, widgets
from import_export.results import RowResult

from catalog.models import Item
from catalog.spreadsheets import cell_neutralise, cell_restore
from inventory.import_cells import PrefetchedKey, Quantity, Text, When
from inventory.models import Discrepancy, IncomingSupply, StockLevel, Warehouse

log = logging.getLogger("inventory.imports")
LOOKUP_CHUNK = 500


class SafeText(widgets.CharWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        return cell_restore(str(super().clean(value, row, **kwargs) or ""))

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        return cell_neutralise(str(super().render(value, obj, **kwargs) or ""))


class PrefetchedResource(resources.ModelResource):
    """Finds the rows a file updates with one query per chunk of keys instead of one per row. Every bad row is
    reported with what is wrong in which column; a file with any bad row imports nothing (inventory/import_jobs.py
    imports a file a chunk at a time, each chunk a dataset of this resource, and rolls back on any bad row)."""

    key_fields: tuple[str, ...] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.row_offset = 0  # the file's rows before this dataset: row numbers are the file's
        # The first row a key was seen on (the key as text, this row): kept across the datasets of one file.
        seen: dict[str, int] = {}
        self.first_row: Callable[[str, int], int] = seen.setdefault

    def header_check(self, headers: Sequence[str]) -> None:
        """A ValueError naming the key columns the first row lacks."""
        missing = [self.fields[name].column_name for name in self.key_fields]
        missing = [column for column in missing if column not in headers]
        if missing:
            raise ValueError(
                f"the file has no {', '.join(missing)} column: the first row must name the columns "
                f"({', '.join(f.column_name for f in self.get_import_fields())})"
            )

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        self.header_check(dataset.headers or [])
        for name in ("item", "warehouse"):
            field = self.fields[name]
            field.widget.prefetch(set(dataset[field.column_name]), LOOKUP_CHUNK)
        self.existing = {}
        items = sorted(item.pk for item in self.fields["item"].widget.known.values())
        for start in range(0, len(items), LOOKUP_CHUNK):
            for obj in self._meta.model.objects.filter(item_id__in=items[start : start + LOOKUP_CHUNK]):
                obj.stored_values = self._values(obj)  # what skip_row compares the row's values to
                self.existing[self._key(obj)] = obj

    def _key(self, obj: Any) -> tuple:
        return tuple(obj.serializable_value(name) for name in self.key_fields)

    @staticmethod
    def _values(obj: Any) -> tuple:
        return tuple(getattr(obj, field.attname) for field in obj._meta.concrete_fields)

    def skip_row(self, instance: Any, original: Any, row: Any, import_validation_errors: Any = None) -> bool:
        """A row that leaves its record as it is (skip_diff spares the library's per-row copy and HTML diff, which
        took most of an import's time, so unchanged rows are found here, from the values read with the record)."""
        if import_validation_errors:
            return False
        return getattr(instance, "stored_values", None) == self._values(instance)

    def get_instance(self, instance_loader: Any, row: Any) -> Any:
        try:
            values = [self.fields[name].clean(row) for name in self.key_fields]
        except ValueError:
            return None
        return self.existing.get(tuple(getattr(v, "pk", v) for v in values))

    def import_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:  # keyed by model field: say the column the person sees instead
            columns = {field.attribute: field.column_name for field in self.get_import_fields()}
            raise ValidationError({columns.get(key, key): value for key, value in exc.error_dict.items()}) from None
        # The same key twice in one file: which row should win is the person's call, not ours.
        number = self.row_offset + kwargs.get("row_number", 0) + 1
        first = self.first_row(repr(self._key(instance)), number)
        if first != number:
            keys = ", ".join(self.fields[name].column_name for name in self.key_fields)
            raise ValidationError({NON_FIELD_ERRORS: f"repeats row {first} (the same {keys})"})

    def import_row(self, row: Any, instance_loader: Any, **kwargs: Any) -> RowResult:
        if not any(str(value or "").strip() for value in row.values()):
            skipped = self.get_row_result_class()()
            skipped.import_type = RowResult.IMPORT_TYPE_SKIP  # a blank line: the readers keep it for numbering
            skipped.blank = True
            return skipped
        result = super().import_row(row, instance_loader, **kwargs)
        result.row_number = kwargs.get("row_number", 0)  # for the preview
        if result.errors:
            # A cell the widgets let through that still failed (a bug, or a database refusal): one readable line
            # on the row instead of an exception's repr, and the traceback in the log.
            error = result.errors[0].error
            log.error("row %s of an import failed", kwargs.get("row_number"), exc_info=error)
            result.errors = []
            result.import_type = RowResult.IMPORT_TYPE_INVALID
            result.validation_error = ValidationError(
                {NON_FIELD_ERRORS: f"could not be imported ({type(error).__name__}); nothing was changed"}
            )
        return result

    def import_data(self, dataset: Any, dry_run: bool = False, **kwargs: Any) -> Any:
        # All or nothing, whoever calls: a row that fails validation at the confirmed import rolls back the rest.
        kwargs.update(use_transactions=True, rollback_on_validation_errors=True)
        return super().import_data(dataset, dry_run=dry_run, **kwargs)


class StockLevelResource(PrefetchedResource):
    item = fields.Field(attribute="item", column_name="item_sku", widget=PrefetchedKey(Item, "sku"))
    warehouse = fields.Field(attribute="warehouse", column_name="warehouse", widget=PrefetchedKey(Warehouse, "code"))
    on_hand = fields.Field(attribute="on_hand", column_name="on_hand", widget=Quantity())
    allocated = fields.Field(attribute="allocated", column_name="allocated", widget=Quantity())
    available = fields.Field(attribute="available", column_name="available", widget=Quantity())
    updated_at = fields.Field(attribute="updated_at", column_name="updated_at", widget=When(datetime))
    key_fields = ("item", "warehouse")

    class Meta:
        model = StockLevel
        fields = ("item", "warehouse", "on_hand", "allocated", "available", "updated_at")
        import_id_fields = ("item", "warehouse")
        skip_unchanged = True
        skip_diff = True  # the job shows no per-row diff; skip_row finds the unchanged rows
        use_bulk = True
        batch_size = 1000

    @classmethod
    def get_display_name(cls) -> str:
        return "Stock levels"

    def before_save_instance(self, instance: StockLevel, row: Any, **kwargs: Any) -> None:
        if instance.updated_at is None:  # a blank updated_at: now, as the model's default
            instance.updated_at = timezone.now()


class IncomingSupplyResource(PrefetchedResource):
    item = fields.Field(attribute="item", column_name="item_sku", widget=PrefetchedKey(Item, "sku"))
    warehouse = fields.Field(attribute="warehouse", column_name="warehouse", widget=PrefetchedKey(Warehouse, "code"))
    purchase_order = fields.Field(attribute="purchase_order", column_name="purchase_order", widget=Text(60))
    quantity = fields.Field(attribute="quantity", column_name="quantity", widget=Quantity(minimum=0))
    expected_date = fields.Field(attribute="expected_date", column_name="expected_date", widget=When(date))
    key_fields = ("warehouse", "purchase_order", "item")

    class Meta:
        model = IncomingSupply
        fields = ("item", "warehouse", "purchase_order", "quantity", "expected_date")
        import_id_fields = ("warehouse", "purchase_order", "item")
        skip_unchanged = True
        skip_diff = True  # the job shows no per-row diff; skip_row finds the unchanged rows
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
