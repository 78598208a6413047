from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from integrations.models import Channel, ChannelRole
from inventory.forms import PairingForm
from inventory.models import ChannelWarehouse, Warehouse, WarehousePairing
from inventory.pairing import (
    pairing_effect,
    pairing_save,
    pairing_suggestions,
    pairing_suggestions_accept,
    pairings_of,
)
from inventory.policies import policy_for


@admin.register(ChannelWarehouse)
class ChannelWarehouseAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "external_id", "code", "active", "paired_with", "pairing_link"]
    list_filter = ["channel", "active"]
    list_select_related = ["channel"]
    search_fields = ["name", "external_id", "code"]
    readonly_fields = ["updated_at"]
    fields = ["channel", "external_id", "name", "code", "active", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("warehouses")

    @admin.display(description="fed by")
    def paired_with(self, cw: ChannelWarehouse) -> str:
        return ", ".join(sorted(w.code for w in cw.warehouses.all())) or "-"

    @admin.display(description="pairing")
    def pairing_link(self, cw: ChannelWarehouse) -> str:
        url = reverse("admin:inventory_pairing", args=[cw.channel_id])
        return format_html('<a href="{}">pair warehouses</a>', url)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("pairing/", view(self.pairing_index_view), name="inventory_pairing_index"),
            path("pairing/<int:channel_id>/", view(self.pairing_view), name="inventory_pairing"),
            *super().get_urls(),
        ]

    def pairing_index_view(self, request: HttpRequest) -> HttpResponse:
        """The sales channels, each with its number of channel warehouses and of paired ones."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        channels = Channel.objects.filter(role=ChannelRole.SALES).annotate(
            warehouse_count=Count("channel_warehouses", distinct=True),
            paired_count=Count(
                "channel_warehouses", filter=Q(channel_warehouses__pairings__isnull=False), distinct=True
            ),
        )
        context = {**self.admin_site.each_context(request), "title": "Warehouse pairing", "channels": channels,
                   "opts": self.model._meta}  # fmt: skip
        return TemplateResponse(request, "admin/inventory/pairing_index.html", context)

    def pairing_view(self, request: HttpRequest, channel_id: int) -> HttpResponse:
        """Channel warehouses as rows, internal warehouses as checkboxes; saved in one transaction."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST" and not self.has_change_permission(request):
            raise PermissionDenied  # a view-only user sees the pairing but may not save one
        channel = get_object_or_404(Channel, pk=channel_id, role=ChannelRole.SALES)
        channel_warehouses = list(ChannelWarehouse.objects.filter(channel=channel).order_by("name", "external_id"))
        if request.method == "POST" and "accept_suggestions" in request.POST:
            ids = [int(pk) for pk in request.POST.getlist("suggested") if pk.isdigit()]
            paired = pairing_suggestions_accept(channel=channel, channel_warehouse_ids=ids)
            self.message_user(request, f"{paired} suggested pairing(s) of {channel} accepted.", messages.SUCCESS)
            return HttpResponseRedirect(request.path)
        if request.method == "POST":
            form = PairingForm(request.POST, channel=channel, channel_warehouses=channel_warehouses)
            if form.is_valid():
                pairing_save(
                    channel=channel,
                    pairs=form.pairs(),
                    mode=form.cleaned_data["mode"],
                    excluded_warehouse_ids=[w.pk for w in form.cleaned_data["excluded"]],
                    combined_target_id=getattr(form.cleaned_data["combined_target"], "pk", None),
                )
                self.message_user(request, f"Warehouse pairing of {channel} saved.", messages.SUCCESS)
                return HttpResponseRedirect(request.path)
        else:
            form = PairingForm(initial=_initial(channel), channel=channel, channel_warehouses=channel_warehouses)
        feeds, problem = pairing_effect(channel=channel)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Warehouse pairing: {channel}",
            "channel": channel,
            "form": form,
            "warehouses": list(Warehouse.objects.order_by("code")),
            "feeds": feeds,
            "problem": problem,
            "suggestions": pairing_suggestions(channel=channel),
            "can_change": self.has_change_permission(request),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/inventory/pairing.html", context)


@admin.register(WarehousePairing)
class WarehousePairingAdmin(admin.ModelAdmin):
    """Inventory → Warehouse pairing in the menu: opens the pairing screen, which pairs with the channel
    warehouses' permissions (a pairing row is never edited on its own)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("inventory.view_channelwarehouse")

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("inventory.view_channelwarehouse")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return self.admin_site._registry[ChannelWarehouse].pairing_index_view(request)  # the same page, at home


def _initial(channel: Channel) -> dict:
    policy = policy_for(channel_id=channel.pk)
    initial = {
        "mode": policy.mode,
        "excluded": list(policy.excluded_warehouses.values_list("pk", flat=True)) if policy.pk else [],
        "combined_target": policy.combined_target_id,
    }
    initial.update({f"cw_{cw_id}": sorted(ids) for cw_id, ids in pairings_of(channel=channel).items()})
    return initial
