"""The catalog screens: items (with bundle components and their channel listings) and the mapping screen.
Actions gather the selection, call one service and report; every page runs a fixed number of queries."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from import_export.admin import ImportExportMixin
from import_export.forms import ExportForm

from catalog.automap import mapping_automap
from catalog.candidates import mapping_candidates
from catalog.import_admin import MappingImportViews
from catalog.import_forms import MappingImportForm
from catalog.models import BundleComponent, Item, ItemMapping, MappingStatus
from catalog.resources import ItemMappingResource, MappingCSV, MappingXLSX
from catalog.services import mapping_accept_suggestion, mapping_choose_item, mapping_ignore, mapping_unignore
from integrations.display import FitsList, FromFulfillment, badge, cut, narrow, stacked

LISTINGS_SHOWN = 50


class BundleComponentInline(admin.TabularInline):
    """Read-only like the bundle: the fulfillment system sends a bundle's components with the item."""

    model = BundleComponent
    fk_name = "bundle"
    fields = readonly_fields = ["component", "quantity"]
    extra = 0
    can_delete = False
    verbose_name = "bundle component"
    verbose_name_plural = "bundle components (from the fulfillment system)"

    def has_add_permission(self, request: HttpRequest, obj: Item | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Item | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[BundleComponent]:
        return super().get_queryset(request).select_related("bundle", "component")


@admin.register(Item)
class ItemAdmin(FromFulfillment, admin.ModelAdmin):
    list_display = ["sku", "item_number", "color_code", "prepack_run", "size", "upc", "active"]
    list_filter = ["active"]
    search_fields = ["sku", "item_number", "=upc"]
    search_help_text = "SKU or item number (contains), or an exact UPC"
    show_full_result_count = False
    inlines = [BundleComponentInline]
    readonly_fields = ["listings", "created_at", "updated_at"]
    fieldsets = [
        (
            None,
            {
                "fields": ["sku", "item_number", "color_code", "prepack_run", "size", "upc", "description", "active"],
                "description": FromFulfillment.source_note,
            },
        ),
        ("Prices", {"fields": ["wholesale_price", "retail_price"]}),
        ("Channel listings", {"fields": ["listings"]}),
        ("History", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if request.GET.get("model_name") == ItemMapping._meta.model_name:
            queryset = queryset.filter(active=True)  # a listing is only ever mapped to an active item
        return queryset, may_have_duplicates

    @admin.display(description="Listings per channel")
    def listings(self, item: Item) -> str:
        if item.pk is None:
            return "-"
        mappings = list(
            item.mappings.select_related("channel").order_by("channel__name", "channel_sku")[: LISTINGS_SHOWN + 1]
        )
        if not mappings:
            return "Not listed on any channel."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (m.channel, m.channel_sku, m.get_status_display(), m.get_method_display())
                for m in mappings[:LISTINGS_SHOWN]
            ),
        )
        link = reverse("admin:catalog_itemmapping_changelist") + f"?item__id__exact={item.pk}"
        more = "all listings of this item" if len(mappings) > LISTINGS_SHOWN else "open on the mapping screen"
        return format_html(
            "<table><thead><tr><th>Channel</th><th>Channel SKU</th><th>Status</th><th>Method</th></tr></thead>"
            '<tbody>{}</tbody></table><p><a href="{}">{}</a></p>',
            rows,
            link,
            more,
        )


class ChannelFilter(admin.RelatedFieldListFilter):
    """The channel filter, with each channel's listings that match no item one click away (`?channel__id__exact=
    <id>&status__exact=unmapped`, the link a channel's page can offer too). No query beyond the channel list."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.unmapped = request.GET.get("status__exact") == MappingStatus.UNMAPPED
        super().__init__(field, request, params, model, model_admin, field_path)

    def choices(self, changelist):
        choices = list(super().choices(changelist))
        yield choices[0]
        for (pk, name), choice in zip(self.lookup_choices, choices[1:], strict=False):
            yield {**choice, "selected": choice["selected"] and not self.unmapped}
            yield {
                "selected": choice["selected"] and self.unmapped,
                "query_string": changelist.get_query_string(
                    {self.lookup_kwarg: pk, "status__exact": MappingStatus.UNMAPPED}, [self.lookup_kwarg_isnull]
                ),
                "display": f"{name}: listings that match no item",
            }


class ItemMappingForm(forms.ModelForm):
    class Meta:
        model = ItemMapping
        fields = ["channel", "channel_sku", "channel_product_id", "channel_upc", "title", "item"]

    def clean_item(self) -> Item | None:
        item = self.cleaned_data["item"]
        if item is not None and not item.active and "item" in self.changed_data:
            raise forms.ValidationError("This item is inactive; choose an active item.")
        return item


@admin.register(ItemMapping)
class ItemMappingAdmin(FitsList, MappingImportViews, ImportExportMixin, admin.ModelAdmin):
    form = ItemMappingForm
    # Fits 1400 px: the UPC is searched, not read; the suggestion and its reason share a column.
    list_display = ["listing", "channel_name", "state", "item_or_choices", "suggestion"]
    list_display_links = ["listing"]
    list_filter = [("channel", ChannelFilter), "status", "method"]
    search_fields = ["channel_sku", "=channel_upc", "item__sku"]
    search_help_text = "Channel SKU or item SKU (contains), or an exact channel UPC"
    # Conflicts, then unmapped, then mapped, then ignored: served by the review_rank indexes.
    ordering = ["review_rank", "-id"]
    list_select_related = ["channel", "item", "suggested_item"]
    autocomplete_fields = ["item"]
    show_full_result_count = False
    list_per_page = 100
    actions = ["automap_selected", "ignore_selected", "unignore_selected", "accept_suggestion"]
    readonly_fields = ["status", "method", "suggested_item", "note", "choices", "data", "created_at", "updated_at"]
    fieldsets = [
        ("Listing", {"fields": ["channel", "channel_sku", "channel_product_id", "channel_upc", "title"]}),
        ("Mapping", {"fields": ["item", "status", "method", "suggested_item", "note", "choices"]}),
        ("Downloaded data", {"fields": ["data", "created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    resource_classes = [ItemMappingResource]
    import_formats = [MappingCSV, MappingXLSX]
    export_formats = [MappingCSV, MappingXLSX]
    export_form_class = ExportForm
    import_template_name = "admin/catalog/itemmapping/import.html"
    import_form_class = MappingImportForm

    @admin.display(description="channel SKU", ordering="channel_sku")
    def listing(self, mapping: ItemMapping) -> str:
        title = mapping.title if mapping.title != mapping.channel_sku else ""
        return stacked(narrow(mapping.channel_sku, key=True), cut(title, 40))

    @admin.display(description="status", ordering="review_rank")
    def state(self, mapping: ItemMapping) -> str:
        return stacked(badge(mapping.status, mapping.get_status_display()), mapping.get_method_display().lower())

    @admin.display(description="item", ordering="item__sku")
    def item_or_choices(self, mapping: ItemMapping) -> str:
        """The listing's item; a conflict's candidates instead, each a one-click choice."""
        return self.choices(mapping) or (mapping.item or "-")

    @admin.display(description="suggestion and reason")
    def suggestion(self, mapping: ItemMapping) -> str:
        return stacked(mapping.suggested_item or "", cut(mapping.note, 90))

    @admin.display(description="map to")
    def choices(self, mapping: ItemMapping) -> str:
        """A conflict's candidate items, each a one-click POST (inside the page's own form, which has the CSRF
        token). Lists set `candidates` for the whole page in one query (get_changelist_instance)."""
        if not getattr(mapping, "can_choose", False):
            return ""
        candidates = getattr(mapping, "candidates", None)
        if candidates is None:
            candidates = mapping_candidates(mappings=[mapping]).get(mapping.pk, [])
        url = "admin:catalog_itemmapping_choose"
        return format_html_join(
            " ",
            '<button type="submit" class="button" formmethod="post" formaction="{}" name="next" value="{}">{}</button>',
            ((reverse(url, args=[mapping.pk, item.pk]), mapping.back_to, item.sku) for item in candidates),
        )

    def get_changelist_instance(self, request: HttpRequest):
        changelist = super().get_changelist_instance(request)
        page = list(changelist.result_list)  # evaluated once here; the template iterates the same rows
        can_choose = self.has_change_permission(request)
        candidates = mapping_candidates(mappings=page) if can_choose else {}
        for mapping in page:
            mapping.can_choose, mapping.back_to = can_choose, request.get_full_path()
            mapping.candidates = candidates.get(mapping.pk, [])
        return changelist

    def get_object(self, request: HttpRequest, object_id: str, from_field=None):
        mapping = super().get_object(request, object_id, from_field)
        if mapping is not None:
            mapping.can_choose = self.has_change_permission(request, mapping)
            mapping.back_to = request.get_full_path()
        return mapping

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        choose = path("<int:pk>/choose/<int:item_id>/", view(self.choose_view), name="catalog_itemmapping_choose")
        return [choose, *super().get_urls()]

    @method_decorator(require_POST)
    def choose_view(self, request: HttpRequest, pk: int, item_id: int) -> HttpResponse:
        """Map the listing to one of its candidates, through the same service as choosing it on the form."""
        mapping = get_object_or_404(ItemMapping.objects.select_related("channel"), pk=pk)
        if not self.has_change_permission(request, mapping):
            raise PermissionDenied
        item = get_object_or_404(Item, pk=item_id)
        if not item.active:
            self.message_user(request, f"{item.sku} is inactive; choose an active item.", messages.ERROR)
        else:
            mapping_choose_item(mapping=mapping, item=item, user=request.user)
            self.message_user(request, f"{mapping.channel_sku} on {mapping.channel} is mapped to {item.sku}.")
        back = request.POST.get("next", "")
        safe = url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure())
        return HttpResponseRedirect(back if safe else reverse("admin:catalog_itemmapping_changelist"))

    def save_model(self, request: HttpRequest, obj: ItemMapping, form: forms.ModelForm, change: bool) -> None:
        if "item" in form.changed_data:
            mapping_choose_item(mapping=obj, item=obj.item, user=request.user)
        else:
            super().save_model(request, obj, form, change)

    @admin.action(description="Auto-map selected listings", permissions=["change"])
    def automap_selected(self, request: HttpRequest, queryset: QuerySet[ItemMapping]) -> None:
        counts = mapping_automap(mappings=queryset).counts
        self.message_user(
            request,
            f"Auto-map: {counts['mapped']} mapped, {counts['conflict']} conflicts, {counts['unmapped']} unmapped, "
            f"{counts['suggested']} suggestions on manual, imported or ignored listings; {counts['changed']} changed.",
        )

    @admin.action(description="Ignore selected listings", permissions=["change"])
    def ignore_selected(self, request: HttpRequest, queryset: QuerySet[ItemMapping]) -> None:
        self.message_user(request, f"{mapping_ignore(mappings=queryset)} listings ignored.")

    @admin.action(description="Un-ignore selected listings", permissions=["change"])
    def unignore_selected(self, request: HttpRequest, queryset: QuerySet[ItemMapping]) -> None:
        self.message_user(request, f"{mapping_unignore(mappings=queryset)} listings no longer ignored.")

    @admin.action(description="Accept the suggestion on selected listings", permissions=["change"])
    def accept_suggestion(self, request: HttpRequest, queryset: QuerySet[ItemMapping]) -> None:
        accepted = mapping_accept_suggestion(mappings=queryset, user=request.user)
        level = messages.SUCCESS if accepted else messages.WARNING
        self.message_user(request, f"{accepted} suggestions accepted.", level)
