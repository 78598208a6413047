from django.contrib import admin
from import_export.admin import ImportExportMixin

from integrations.display import FromFulfillment
from inventory.models import IncomingSupply, StockLevel, Warehouse
from inventory.resources import IncomingSupplyResource, StockLevelResource


@admin.register(Warehouse)
class WarehouseAdmin(FromFulfillment, admin.ModelAdmin):
    list_display = ["code", "name", "active", "updated_at"]
    list_filter = ["active"]
    search_fields = ["code", "name"]


@admin.register(StockLevel)
class StockLevelAdmin(ImportExportMixin, admin.ModelAdmin):
    resource_classes = [StockLevelResource]
    list_display = ["item", "warehouse", "on_hand", "allocated", "available", "updated_at"]
    list_filter = ["warehouse", "updated_at"]
    list_select_related = ["item", "warehouse"]
    search_fields = ["item__sku", "=item__upc"]
    search_help_text = "Item SKU (contains) or exact UPC"
    autocomplete_fields = ["item"]
    show_full_result_count = False


@admin.register(IncomingSupply)
class IncomingSupplyAdmin(ImportExportMixin, admin.ModelAdmin):
    resource_classes = [IncomingSupplyResource]
    list_display = ["purchase_order", "item", "warehouse", "quantity", "expected_date", "updated_at"]
    list_filter = ["warehouse", "expected_date"]
    list_select_related = ["item", "warehouse"]
    search_fields = ["purchase_order", "item__sku"]
    search_help_text = "Purchase order or item SKU (contains)"
    autocomplete_fields = ["item"]
    date_hierarchy = "expected_date"
    show_full_result_count = False
