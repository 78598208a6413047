"""django-import-export glue for the mapping screen. The resource hands the whole file to
`mapping_import` (bulk, set-based) instead of the library's row-by-row import, and turns its outcome into
the library's `Result`, so the admin's preview and confirm steps show our row errors and counts."""

import tablib
from django.core.exceptions import ValidationError
from import_export import resources
from import_export.fields import Field
from import_export.formats import base_formats
from import_export.results import Result, RowResult

from catalog.importers import MappingImportResult, mapping_import
from catalog.models import ItemMapping
from catalog.spreadsheets import COLUMNS, mapping_export_rows, table_from_bytes


def _dataset(rows) -> tablib.Dataset:
    """A Dataset from our reader: blank rows are kept so row numbers stay the spreadsheet's."""
    rows = iter(rows)
    header = next(rows, None)
    if not header:
        return tablib.Dataset()
    width = len(header)
    dataset = tablib.Dataset(headers=header)
    for row in rows:
        dataset.append((row + [""] * width)[:width])
    return dataset


class MappingCSV(base_formats.CSV):
    def create_dataset(self, in_stream, **kwargs) -> tablib.Dataset:
        return _dataset(table_from_bytes(in_stream, "csv"))


class MappingXLSX(base_formats.XLSX):
    def create_dataset(self, in_stream, **kwargs) -> tablib.Dataset:
        return _dataset(table_from_bytes(in_stream, "xlsx"))


class ItemMappingResource(resources.Resource):
    """The spreadsheet columns of docs/mapping.md, for import and export."""

    channel = Field(column_name="channel")
    channel_sku = Field(column_name="channel_sku")
    item_sku = Field(column_name="item_sku")
    item_upc = Field(column_name="item_upc")
    channel_product_id = Field(column_name="channel_product_id")
    channel_upc = Field(column_name="channel_upc")
    ignore = Field(column_name="ignore")

    class Meta:
        model = ItemMapping

    @classmethod
    def get_display_name(cls) -> str:
        return "Item mappings"

    def import_data(self, dataset: tablib.Dataset, dry_run: bool = False, **kwargs) -> Result:
        outcome = mapping_import(
            header=dataset.headers or [], rows=iter(dataset), dry_run=dry_run, source=kwargs.get("file_name") or ""
        )
        return import_result(outcome)

    def export(self, queryset=None, **kwargs) -> tablib.Dataset:
        queryset = ItemMapping.objects.all() if queryset is None else queryset
        return tablib.Dataset(*mapping_export_rows(mappings=queryset), headers=list(COLUMNS))


class MappingResult(Result):
    """The library's Result, carrying our outcome for the import template."""

    mapping: MappingImportResult


def import_result(outcome: MappingImportResult) -> MappingResult:
    """Our outcome as the library's Result: errors as invalid rows (no confirm button), counts as totals,
    and the first changes as preview rows."""
    result = MappingResult()
    result.mapping = outcome
    result.diff_headers = list(outcome.header)
    for error in outcome.errors:
        values = dict(zip(outcome.header, error.values, strict=False))
        result.append_invalid_row(error.row, values, ValidationError(error.message))
    for change in outcome.preview:
        row = RowResult()
        row.import_type = change.kind
        row.diff = list(change.values)
        result.append_row_result(row)
    result.totals.update(
        {
            RowResult.IMPORT_TYPE_NEW: outcome.new,
            RowResult.IMPORT_TYPE_UPDATE: outcome.updated,
            RowResult.IMPORT_TYPE_SKIP: outcome.unchanged,
            RowResult.IMPORT_TYPE_INVALID: outcome.error_count,
        }
    )
    result.total_rows = outcome.new + outcome.updated + outcome.unchanged + outcome.error_count
    return result
