"""Orders in the admin: a read-only record of every order, fast on a million rows, with the two actions a
person takes on them — delete from fulfillment and resubmit — behind the `delete_resubmit_order` permission.
Shipments likewise, with one action: re-send failed uploads, behind `change_shipmentupload`."""

import json

from django import forms
from django.contrib import admin
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from integrations.models import Channel, ChannelRole
from orders.admin_pages import (
    CappedPaginator,
    SpanDatesQuerySet,
    order_action_page,
    shipments_resend_page,
    shipments_search,
)
from orders.manual import delete_plan, orders_delete_from_fulfillment, orders_resubmit, resubmit_plan
from orders.models import (
    Customer,
    Order,
    OrderEvent,
    OrderLine,
    OrderRules,
    Shipment,
    ShipmentLine,
    ShipmentUpload,
    ShipmentUploadMode,
    UploadState,
)
from orders.selectors import open_issue_orders, orders_search


class OpenIssuesFilter(admin.SimpleListFilter):
    title = "open issues"
    parameter_name = "issues"

    def lookups(self, request, model_admin):
        return [("yes", "With open issues"), ("no", "Without")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(open_issue_orders())
        if self.value() == "no":
            return queryset.exclude(open_issue_orders())
        return queryset


class SalesChannelFilter(admin.SimpleListFilter):
    """Sales channels only, from the channel table: no DISTINCT over the orders."""

    title = "channel"
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        return Channel.objects.filter(role=ChannelRole.SALES).order_by("name").values_list("pk", "name")

    def queryset(self, request, queryset):
        return queryset.filter(channel_id=self.value()) if self.value() else queryset


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = readonly_fields = (
        "external_id",
        "parent",
        "channel_sku",
        "title",
        "mapping",
        "item",
        "quantity",
        "unit_price",
        "quantity_shipped",
        "quantity_cancelled",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("mapping", "item", "parent")


class ShipmentColumns:
    """A shipment's units and upload state, for the shipments list, its page and the order page's inline:
    the lines and uploads are prefetched (two queries for any number of shipments)."""

    @staticmethod
    def with_lines_and_uploads(queryset: QuerySet[Shipment]) -> QuerySet[Shipment]:
        # Ordered by their own columns: the models' default orderings would join the shipments to sort.
        lines = ShipmentLine.objects.only("id", "shipment_id", "quantity").order_by()
        uploads = ShipmentUpload.objects.order_by("channel_id")
        return queryset.prefetch_related(Prefetch("lines", lines), Prefetch("uploads", uploads))

    @admin.display(description="units")
    def units(self, shipment: Shipment) -> int:
        return sum(line.quantity for line in shipment.lines.all())

    @admin.display(description="carrier / service")
    def carrier_service(self, shipment: Shipment) -> str:
        return " / ".join(part for part in (shipment.carrier, shipment.service) if part)

    @admin.display(description="upload")
    def upload_state(self, shipment: Shipment) -> str:
        return "; ".join(_upload_summary(upload) for upload in shipment.uploads.all()) or "not uploaded"


class ShipmentInline(ShipmentColumns, ReadOnlyInline):
    model = Shipment
    fields = readonly_fields = (
        "tracking_number",
        "carrier_service",
        "invoice_number",
        "shipped_at",
        "units",
        "upload_state",
    )
    show_change_link = True

    def get_queryset(self, request):
        return self.with_lines_and_uploads(super().get_queryset(request))


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = readonly_fields = ("created_at", "kind", "from_status", "to_status", "message", "actor")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "channel",
        "status",
        "hold_reason",
        "fulfillment_number",
        "customer",
        "placed_at",
        "total",
        "flags",
    )
    list_filter = (SalesChannelFilter, "status", "hold_reason", OpenIssuesFilter)
    list_select_related = ("channel", "customer")
    search_fields = ("number",)  # shows the box; get_search_results does the work
    search_help_text = "An order number (channel, fulfillment or id), a customer name or email, or an exact SKU."
    date_hierarchy = "placed_at"
    show_full_result_count = False
    paginator = CappedPaginator
    list_per_page = 50
    actions = ["delete_from_fulfillment", "resubmit"]
    inlines = [OrderLineInline, ShipmentInline, OrderEventInline]
    fieldsets = [
        (
            None,
            {
                "fields": (
                    "channel",
                    "external_id",
                    "number",
                    "fulfillment_number",
                    "status",
                    "hold_reason",
                    "hold_detail",
                )
            },
        ),
        (
            "On the channel",
            {"fields": ("channel_status", "placed_at", "channel_updated_at", "customer", "currency", "total")},
        ),
        ("Shipping", {"fields": ("ship_to_text", "bill_to_text", "shipping_method", "attributes_text")}),
        ("Flags", {"fields": ("changed_after_submit", "cancel_requested")}),
        (
            "Submission",
            {
                "fields": (
                    "idempotency_key",
                    "resubmissions",
                    "submit_attempts",
                    "next_attempt_at",
                    "first_failure_at",
                    "last_error",
                    "submitted_at",
                    "acknowledged_at",
                )
            },
        ),
        ("Raw payload", {"classes": ("collapse",), "fields": ("raw_payload",)}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        queryset = super().get_queryset(request)
        return SpanDatesQuerySet(model=queryset.model, query=queryset.query, using=queryset.db)

    def get_search_results(self, request, queryset, search_term):
        return orders_search(queryset, search_term), False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # read-only: orders change through flows and the two actions

    def has_delete_permission(self, request, obj=None):
        return False

    def has_delete_resubmit_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orders.delete_resubmit_order")

    def get_readonly_fields(self, request, obj=None):
        return [name for _, options in self.fieldsets for name in options["fields"]]

    @admin.display(description="flags")
    def flags(self, order: Order) -> str:
        names = [("changed after submit", order.changed_after_submit), ("cancel requested", order.cancel_requested)]
        return ", ".join(name for name, on in names if on)

    @admin.display(description="ship to")
    def ship_to_text(self, order: Order) -> str:
        return _address_html(order.ship_to)

    @admin.display(description="bill to")
    def bill_to_text(self, order: Order) -> str:
        return _address_html(order.bill_to)

    @admin.display(description="attributes")
    def attributes_text(self, order: Order) -> str:
        return _json_html(order.attributes)

    @admin.display(description="raw payload")
    def raw_payload(self, order: Order) -> str:
        return _json_html(order.raw)

    @admin.action(description="Delete from fulfillment", permissions=["delete_resubmit"])
    def delete_from_fulfillment(self, request, queryset):
        return order_action_page(
            self,
            request,
            queryset,
            action="delete_from_fulfillment",
            title="Delete orders from the fulfillment system",
            plan=delete_plan,
            run=orders_delete_from_fulfillment,
        )

    @admin.action(description="Resubmit", permissions=["delete_resubmit"])
    def resubmit(self, request, queryset):
        return order_action_page(
            self,
            request,
            queryset,
            action="resubmit",
            title="Resubmit orders to the fulfillment system",
            plan=resubmit_plan,
            run=orders_resubmit,
        )


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
    fields = readonly_fields = ("channel", "state", "attempts", "last_error", "next_attempt_at", "sent_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("channel").order_by("channel_id")


@admin.register(Shipment)
class ShipmentAdmin(ShipmentColumns, admin.ModelAdmin):
    list_display = (
        "order_link",
        "channel",
        "tracking_number",
        "carrier_service",
        "invoice_number",
        "shipped_at",
        "units",
        "upload_state",
    )
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


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "code", "external_id", "channel")
    list_filter = ("channel",)
    list_select_related = ("channel",)
    search_fields = ("name", "email", "=external_id", "=code")
    show_full_result_count = False
    readonly_fields = ("channel", "external_id", "name", "email", "code", "billing_address", "shipping_address")

    def has_add_permission(self, request):
        return False


class OrderRulesForm(forms.ModelForm):
    hook_secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="The shared secret the channel signs order notifications with (write-only: leave blank to keep).",
    )
    # Not required: a post without it (a script, an older form) keeps the channel's current mode.
    shipment_upload = forms.ChoiceField(
        choices=ShipmentUploadMode.choices,
        required=False,
        help_text=OrderRules._meta.get_field("shipment_upload").help_text,
    )

    class Meta:
        model = OrderRules
        fields = (
            "channel",
            "earliest_order_date",
            "ship_to_countries",
            "required_tags",
            "require_customer",
            "submit_retry_days",
            "shipment_upload",
        )

    def clean_shipment_upload(self) -> str:
        return self.cleaned_data["shipment_upload"] or self.instance.shipment_upload

    def save(self, commit: bool = True) -> OrderRules:
        rules = super().save(commit=commit)
        secret = self.cleaned_data.get("hook_secret")
        if secret:
            channel = rules.channel
            channel.credentials = {**channel.credentials, "hook_secret": secret}
            channel.save(update_fields=["credentials", "updated_at"])
        return rules


@admin.register(OrderRules)
class OrderRulesAdmin(admin.ModelAdmin):
    form = OrderRulesForm
    list_display = (
        "channel",
        "earliest_order_date",
        "ship_to_countries",
        "required_tags",
        "require_customer",
        "shipment_upload",
    )
    list_select_related = ("channel",)
    readonly_fields = ("notification_url",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "channel":
            kwargs["queryset"] = Channel.objects.filter(role=ChannelRole.SALES)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="notification URL")
    def notification_url(self, rules: OrderRules) -> str:
        if not rules.pk:
            return "Shown once saved."
        secret = (
            "a secret is set"
            if rules.channel.credentials.get("hook_secret")
            else "no secret set: notifications are refused"
        )
        return f"POST {reverse('orders:hook', args=[rules.channel.slug])} ({secret})"


def _upload_summary(upload: ShipmentUpload) -> str:
    if upload.state == UploadState.SENT:
        return "sent"
    tries = f"{upload.attempts} attempt{'s' if upload.attempts != 1 else ''}"
    text = f"{upload.get_state_display().lower()} after {tries}" if upload.attempts else "pending"
    return f"{text}: {Truncator(upload.last_error).chars(80)}" if upload.last_error else text


def _json_html(data: object) -> str:
    return format_html("<pre>{}</pre>", json.dumps(data, indent=2, sort_keys=True, default=str))


def _address_html(address: dict) -> str:
    parts = [
        address.get(name) for name in ("name", "company", "line1", "line2", "city", "state", "postal_code", "country")
    ]
    return format_html_join("", "{}<br>", ((part,) for part in parts if part))
