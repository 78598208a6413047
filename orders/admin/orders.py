"""Orders: a read-only record of every order, fast on a million rows, with the two actions a person
takes on them — delete from fulfillment and resubmit — behind the `delete_resubmit_order` permission."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from integrations.display import FitsList, badge, narrow, stacked, when
from orders.admin.common import ReadOnlyInline, SalesChannelFilter, ShipmentColumns, address_html, json_html
from orders.admin.pages import CappedPaginator, SpanDatesQuerySet, order_action_page
from orders.manual import delete_plan, orders_delete_from_fulfillment, orders_resubmit, resubmit_plan
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, Shipment
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


class HoldReasonFilter(admin.ChoicesFieldListFilter):
    """The hold reasons, each also asking for "has a reason", the condition of the held orders' partial index:
    SQLite uses a partial index only when the query repeats its WHERE term (PostgreSQL infers it), and without
    it the filtered page walked every order by date."""

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        queryset = super().queryset(request, queryset)
        if any(self.lookup_val or ()):
            queryset = queryset.exclude(hold_reason="")
        return queryset


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
        "line_details",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("mapping", "item", "parent")

    @admin.display(description="line details")
    def line_details(self, line: OrderLine) -> str:
        """The channel's own facts about the line (NuORDER: warehouse, prebook, ship window, discount, original
        price), one `name: value` per fact; dates as their day."""
        facts = []
        for name, value in sorted((line.attributes or {}).items()):
            if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
                value = value[:10]  # an ISO timestamp: the ship window is a matter of days
            facts.append(f"{name.replace('_', ' ')}: {value}")
        return "; ".join(facts) or "-"


class ShipmentInline(ShipmentColumns, ReadOnlyInline):
    model = Shipment
    fields = readonly_fields = ShipmentColumns.columns
    show_change_link = True

    def get_queryset(self, request):
        return self.with_lines_and_uploads(super().get_queryset(request))


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = readonly_fields = ("created_at", "kind", "from_status", "to_status", "message", "actor")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(Order)
class OrderAdmin(FitsList, admin.ModelAdmin):
    # Fits 1400 px: the hold reason and the flags read under the status badge; the customer wraps.
    list_display = ("order_number", "channel_name", "state", "fulfillment", "customer_name", "placed", "total")
    list_display_links = ("order_number",)
    list_filter = (SalesChannelFilter, "status", ("hold_reason", HoldReasonFilter), OpenIssuesFilter)
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

    def get_fieldsets(self, request, obj=None):
        if obj is None or obj.status != OrderStatus.DELETED:
            return self.fieldsets
        (name, options), *rest = self.fieldsets
        return [(name, {**options, "fields": ("out_of_warehouse", *options["fields"])}), *rest]

    def get_readonly_fields(self, request, obj=None):
        return [name for _, options in self.get_fieldsets(request, obj) for name in options["fields"]]

    @admin.display(description="warehouse")
    def out_of_warehouse(self, order: Order) -> str:
        return format_html(
            '<strong style="color: var(--error-fg, #ba2121)">Out of the warehouse: deleted from {} and not '
            "resubmitted, so nobody will ship it. {}</strong>",
            order.channel.fulfillment or "the fulfillment system",
            f"Last error: {order.last_error}" if order.last_error else "Resubmit it, or cancel it on the channel.",
        )

    @admin.display(description="flags")
    def flags(self, order: Order) -> str:
        names = [("changed after submit", order.changed_after_submit), ("cancel requested", order.cancel_requested)]
        return ", ".join(name for name, on in names if on)

    @admin.display(description="status", ordering="status")
    def state(self, order: Order) -> str:
        detail = "; ".join(
            filter(None, [order.get_hold_reason_display() if order.hold_reason else "", self.flags(order)])
        )
        return stacked(badge(order.status, order.get_status_display()), detail)

    @admin.display(description="order", ordering="number")
    def order_number(self, order: Order) -> str:
        return narrow(order.number)

    @admin.display(description="fulfillment", ordering="fulfillment_number")
    def fulfillment(self, order: Order) -> str:
        return order.fulfillment_number or "-"

    @admin.display(description="customer", ordering="customer__name")
    def customer_name(self, order: Order) -> str:
        return narrow(order.customer or "-")

    @admin.display(description="placed", ordering="placed_at")
    def placed(self, order: Order) -> str:
        return when(order.placed_at)

    @admin.display(description="ship to")
    def ship_to_text(self, order: Order) -> str:
        return address_html(order.ship_to)

    @admin.display(description="bill to")
    def bill_to_text(self, order: Order) -> str:
        return address_html(order.bill_to)

    @admin.display(description="attributes")
    def attributes_text(self, order: Order) -> str:
        return json_html(order.attributes)

    @admin.display(description="raw payload")
    def raw_payload(self, order: Order) -> str:
        return json_html(order.raw)

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
