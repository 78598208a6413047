from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from import_export.admin import ExportMixin

from inventory.models import Discrepancy, PushIntent, PushLedger
from inventory.reconcile import discrepancies_push_again
from inventory.resources import DiscrepancyResource


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written by the flows only; a person reads them."""

    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(PushLedger)
class PushLedgerAdmin(ReadOnlyAdmin):
    list_display = ["mapping", "channel_warehouse", "quantity", "accepted_at"]
    list_filter = ["channel_warehouse__channel"]
    list_select_related = ["mapping", "channel_warehouse"]
    search_fields = ["mapping__channel_sku"]


@admin.register(PushIntent)
class PushIntentAdmin(ReadOnlyAdmin):
    list_display = ["mapping", "channel_warehouse", "mode", "quantity", "delta", "state", "attempts", "created_at",
                    "sent_at", "error"]  # fmt: skip
    list_filter = ["state", "mode", "channel_warehouse__channel"]
    list_select_related = ["mapping", "channel_warehouse"]
    search_fields = ["mapping__channel_sku"]
    date_hierarchy = "created_at"


@admin.register(Discrepancy)
class DiscrepancyAdmin(ExportMixin, ReadOnlyAdmin):
    """The discrepancy report: refreshed by each inventory.reconcile run; export it or push the hub's figure again."""

    resource_classes = [DiscrepancyResource]
    list_display = ["mapping", "channel_warehouse", "hub_quantity", "channel_quantity", "difference", "last_pushed",
                    "last_pushed_at", "found_at"]  # fmt: skip
    list_filter = ["channel", "channel_warehouse"]
    list_select_related = ["channel", "mapping__item", "channel_warehouse"]
    search_fields = ["mapping__channel_sku", "mapping__item__sku"]
    actions = ["push_again"]

    @admin.display(description="channel - hub")
    def difference(self, row: Discrepancy) -> str:
        return "not on the channel" if row.difference is None else f"{row.difference:+d}"

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
