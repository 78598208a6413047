"""Shipments: read-only, with one action — re-send failed uploads — behind `change_shipmentupload`."""

from django.contrib import admin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from integrations.display import FitsList
from orders.admin.common import ReadOnlyInline, SalesChannelFilter, ShipmentColumns
from orders.admin.pages import CappedPaginator, shipments_resend_page, shipments_search
from orders.models import Shipment, ShipmentLine, ShipmentUpload, UploadState


class UploadStateFilter(admin.SimpleListFilter):
    """Through the outbox with EXISTS, not a join: a shipment uploaded to two channels is still one row."""

    title = "upload state"
    parameter_name = "upload"

    def lookups(self, request, model_admin):
        return UploadState.choices

    def queryset(self, request, queryset):
        if self.value() not in UploadState.values:
            return queryset
        return queryset.filter(Exists(ShipmentUpload.objects.filter(shipment=OuterRef("pk"), state=self.value())))


class ShipmentPartInline(ReadOnlyInline):
    """Lines and uploads have no screen of their own: whoever may see the shipment sees them."""

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("orders.view_shipment")


class ShipmentLineInline(ShipmentPartInline):
    model = ShipmentLine
    fields = readonly_fields = ("line", "sku", "title", "quantity")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line").order_by("id")

    @admin.display(description="order line")
    def line(self, shipment_line: ShipmentLine) -> str:
        return shipment_line.order_line.external_id

    @admin.display(description="SKU")
    def sku(self, shipment_line: ShipmentLine) -> str:
        return shipment_line.order_line.channel_sku

    @admin.display(description="title")
    def title(self, shipment_line: ShipmentLine) -> str:
        return shipment_line.order_line.title


class ShipmentUploadInline(ShipmentPartInline):
    model = ShipmentUpload
    fields = readonly_fields = (
        "channel",
        "state",
        "correction",
        "attempts",
        "last_error",
        "next_attempt_at",
        "sent_at",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("channel").order_by("channel_id")


@admin.register(Shipment)
class ShipmentAdmin(FitsList, ShipmentColumns, admin.ModelAdmin):
    list_display = ("order_link", "channel_name", *ShipmentColumns.columns)
    list_filter = (SalesChannelFilter, UploadStateFilter)
    list_select_related = ("order", "channel")
    search_fields = ("tracking_number",)  # shows the box; get_search_results does the work
    search_help_text = (
        "An exact tracking number, invoice number or fulfillment shipment id, or an order number "
        "(channel, fulfillment or id)."
    )
    sortable_by = ()  # newest first, on the (channel,) created index
    show_full_result_count = False
    paginator = CappedPaginator
    list_per_page = 50
    actions = ["resend_failed_uploads"]
    inlines = [ShipmentLineInline, ShipmentUploadInline]
    fields = readonly_fields = (
        "order_link",
        "channel",
        "external_id",
        "invoice_number",
        "tracking_number",
        "carrier",
        "service",
        "warehouse",
        "shipped_at",
        "units",
        "created_at",
        "updated_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Shipment]:
        return self.with_lines_and_uploads(super().get_queryset(request))

    def get_search_results(self, request, queryset, search_term):
        return shipments_search(queryset, search_term), False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # read-only: shipments come from the fulfillment system

    def has_delete_permission(self, request, obj=None):
        return False

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orders.change_shipmentupload")

    @admin.display(description="order")
    def order_link(self, shipment: Shipment) -> str:
        url = reverse("admin:orders_order_change", args=[shipment.order_id])
        return format_html('<a href="{}">{}</a>', url, shipment.order.number)

    @admin.action(description="Re-send failed uploads", permissions=["resend"])
    def resend_failed_uploads(self, request, queryset):
        return shipments_resend_page(self, request, queryset)
