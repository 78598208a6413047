from typing import Any

from django.contrib import admin
from import_export.admin import ImportExportMixin

from catalog.import_forms import MappingImportForm
from catalog.resources import MappingCSV, MappingXLSX
from integrations.display import FromFulfillment
from integrations.import_job_admin import ImportJobViews
from inventory.import_jobs import INVENTORY
from inventory.models import IncomingSupply, StockLevel, Warehouse
from inventory.resources import IncomingSupplyResource, StockLevelResource


@admin.register(Warehouse)
class WarehouseAdmin(FromFulfillment, admin.ModelAdmin):
    list_display = ["code", "name", "active", "updated_at"]
    list_filter = ["active"]
    search_fields = ["code", "name"]


class CheckedImport(ImportJobViews, ImportExportMixin):
    """A spreadsheet import (CSV or XLSX) as an import job of its uploader (integrations/import_job_admin.py): its
    page lists every bad row, and nothing is written unless every row is good, at the preview and again at the
    confirmed import; a large file is checked and written by a django-q2 worker (inventory/import_jobs.py)."""

    import_template_name = "admin/inventory/import.html"
    import_job_template = "admin/inventory/import_job.html"
    import_job_kind = INVENTORY
    import_form_class = MappingImportForm  # the format from the file's extension; the size limit at the upload
    # The readers the mapping import uses (catalog/spreadsheets.py): CSV in UTF-8 and XLSX, streamed, with the
    # file limits of docs/security.md; not the library's JSON, HTML or TSV.
    import_formats = [MappingCSV, MappingXLSX]

    def import_job_fields(self) -> dict[str, Any]:
        return {"kind": self.model._meta.model_name}  # stocklevel, incomingsupply


@admin.register(StockLevel)
class StockLevelAdmin(CheckedImport, admin.ModelAdmin):
    resource_classes = [StockLevelResource]
    list_display = ["item", "warehouse", "on_hand", "allocated", "available", "updated_at"]
    list_filter = ["warehouse", "updated_at"]
    list_select_related = ["item", "warehouse"]
    search_fields = ["item__sku", "=item__upc"]
    search_help_text = "Item SKU (contains) or exact UPC"
    autocomplete_fields = ["item"]
    show_full_result_count = False


@admin.register(IncomingSupply)
class IncomingSupplyAdmin(CheckedImport, admin.ModelAdmin):
    resource_classes = [IncomingSupplyResource]
    list_display = ["purchase_order", "item", "warehouse", "quantity", "expected_date", "updated_at"]
    list_filter = ["warehouse", "expected_date"]
    list_select_related = ["item", "warehouse"]
    search_fields = ["purchase_order", "item__sku"]
    search_help_text = "Purchase order or item SKU (contains)"
    autocomplete_fields = ["item"]
    date_hierarchy = "expected_date"
    show_full_result_count = False
