from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from import_export.admin import ImportExportMixin

from catalog.resources import MappingCSV, MappingXLSX
from integrations.display import FromFulfillment
from integrations.import_confirm import ConfirmOwnPreview
from inventory.models import IncomingSupply, StockLevel, Warehouse
from inventory.resources import IncomingSupplyResource, StockLevelResource


@admin.register(Warehouse)
class WarehouseAdmin(FromFulfillment, admin.ModelAdmin):
    list_display = ["code", "name", "active", "updated_at"]
    list_filter = ["active"]
    search_fields = ["code", "name"]


class CheckedImport(ConfirmOwnPreview, ImportExportMixin):
    """A spreadsheet import (CSV or XLSX) that lists every bad row (templates/admin/inventory/import.html) and
    writes nothing unless every row is good, at the preview and again at the confirmed import; the confirmation
    reads only the file this user's preview wrote (integrations/import_confirm.py)."""

    import_template_name = "admin/inventory/import.html"
    # The readers the mapping import uses (catalog/spreadsheets.py): CSV in UTF-8 and XLSX, streamed, with the
    # file limits of docs/security.md; not the library's JSON, HTML or TSV.
    import_formats = [MappingCSV, MappingXLSX]

    def add_data_read_fail_error_to_form(self, form: Any, e: Exception) -> None:
        """One line on what is wrong with the file, not the library's "'BadZipFile' encountered…"."""
        expected = ("a CSV file in UTF-8", "an XLSX workbook")[int(form.cleaned_data.get("format") or 0)]
        if isinstance(e, ValueError) and not isinstance(e, UnicodeDecodeError):
            reason = str(e)  # the readers' own refusals (the file limits) say what and why
        else:
            reason = f"expected {expected}, but cannot read it ({type(e).__name__})"
        form.add_error("import_file", f"Not imported: {reason}.")

    def process_result(self, result: Any, request: HttpRequest) -> HttpResponse:
        if not (result.has_errors() or result.has_validation_errors()):
            return super().process_result(result, request)
        # The file was clean at the preview, so the data changed since (an item or warehouse deleted): the
        # import rolled back; a new preview lists the rows.
        bad = len(result.invalid_rows) + len(result.row_errors()) or len(result.base_errors)
        text = f"Nothing was imported: {bad} row(s) no longer import as previewed. Upload the file again to see them."
        self.message_user(request, text, messages.ERROR)
        opts = self.model._meta
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_import"))


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
