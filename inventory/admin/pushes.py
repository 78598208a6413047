from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join
from import_export.admin import ExportMixin

from integrations.display import FitsList, badge, cut, stacked, when
from inventory.models import Discrepancy, PushIntent, PushLedger
from inventory.reconcile import discrepancies_push_again
from inventory.resources import DiscrepancyResource


class ReadOnlyAdmin(FitsList, admin.ModelAdmin):
    """Written by the flows only; a person reads them."""

    show_full_result_count = False

    @admin.display(description="channel warehouse", ordering="channel_warehouse__name")
    def warehouse_of_channel(self, row: PushIntent | PushLedger | Discrepancy) -> str:
        return stacked(row.channel_warehouse, row.channel_warehouse.channel)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(PushLedger)
class PushLedgerAdmin(ReadOnlyAdmin):
    list_display = ["mapping", "warehouse_of_channel", "quantity", "accepted_at"]
    list_filter = ["channel_warehouse__channel"]
    list_select_related = ["mapping", "channel_warehouse__channel"]
    search_fields = ["mapping__channel_sku"]


@admin.register(PushIntent)
class PushIntentAdmin(ReadOnlyAdmin):
    # Fits 1400 px: the mode is a filter, the delta reads beside the quantity, the error under the state.
    list_display = ["mapping", "warehouse_of_channel", "sent_quantity", "outcome", "created"]
    list_filter = ["state", "mode", "channel_warehouse__channel"]
    list_select_related = ["mapping", "channel_warehouse__channel"]
    search_fields = ["mapping__channel_sku"]
    date_hierarchy = "created_at"

    @admin.display(description="quantity", ordering="quantity")
    def sent_quantity(self, intent: PushIntent) -> str:
        return f"{intent.quantity} ({intent.delta:+d})" if intent.delta is not None else str(intent.quantity)

    @admin.display(description="state", ordering="state")
    def outcome(self, intent: PushIntent) -> str:
        tries = f"{intent.attempts} attempts" if intent.attempts > 1 else ""
        detail = format_html_join(": ", "{}", ((p,) for p in (tries, cut(intent.error, 80)) if p))
        return stacked(badge(intent.state, intent.get_state_display()), detail)

    @admin.display(description="created", ordering="created_at")
    def created(self, intent: PushIntent) -> str:
        return when(intent.created_at)


@admin.register(Discrepancy)
class DiscrepancyAdmin(ExportMixin, ReadOnlyAdmin):
    """The discrepancy report: refreshed by each inventory.reconcile run; export it or push the hub's figure again."""

    resource_classes = [DiscrepancyResource]
    list_display = ["mapping", "warehouse_of_channel", "hub", "on_channel", "difference", "pushed", "found"]
    list_filter = ["channel", "channel_warehouse"]
    list_select_related = ["channel", "mapping__item", "channel_warehouse__channel"]
    search_fields = ["mapping__channel_sku", "mapping__item__sku"]
    actions = ["push_again"]

    @admin.display(description="hub", ordering="hub_quantity")
    def hub(self, row: Discrepancy) -> int:
        return row.hub_quantity

    @admin.display(description="channel", ordering="channel_quantity")
    def on_channel(self, row: Discrepancy) -> str:
        return "-" if row.channel_quantity is None else str(row.channel_quantity)

    @admin.display(description="channel - hub")
    def difference(self, row: Discrepancy) -> str:
        return "not on the channel" if row.difference is None else f"{row.difference:+d}"

    @admin.display(description="last pushed")
    def pushed(self, row: Discrepancy) -> str:
        return stacked(row.last_pushed if row.last_pushed is not None else "-", when(row.last_pushed_at))

    @admin.display(description="found", ordering="found_at")
    def found(self, row: Discrepancy) -> str:
        return when(row.found_at)

    def has_push_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("inventory.change_discrepancy")

    @admin.action(description="Push the hub's quantity again", permissions=["push"])
    def push_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        counts = discrepancies_push_again(discrepancy_ids=list(queryset.values_list("pk", flat=True)))
        level = messages.WARNING if counts["failed"] or counts["busy"] else messages.SUCCESS
        text = f"{counts['pushed']} quantity push(es) accepted, {counts['failed']} failed"
        if counts["busy"]:
            text += f"; {counts['busy']} skipped because an inventory upload of their channel is running"
        self.message_user(request, text + ".", level)
