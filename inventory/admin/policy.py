from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from inventory.breakdown import quantity_breakdown
from inventory.forms import InventoryPolicyForm
from inventory.models import InventoryPolicy
from inventory.policies import policy_rules
from inventory.quantities import InventorySetupError


@admin.register(InventoryPolicy)
class InventoryPolicyAdmin(admin.ModelAdmin):
    form = InventoryPolicyForm
    list_display = ["channel", "source", "mode", "push_mode", "buffer", "share_percent", "maximum", "minimum_level"]
    list_select_related = ["channel"]
    list_filter = ["source", "mode", "push_mode"]
    fieldsets = [
        (None, {"fields": ["channel"]}),
        ("Quantity", {"fields": ["source", "formula", "incoming_days", "incoming_as_wip", "subtract_pending_orders"]}),
        ("Rules", {"fields": ["buffer", "share_percent", "maximum", "minimum_level"]}),
        ("Warehouses and pushes", {"fields": ["mode", "excluded_warehouses", "combined_target", "push_mode"]}),
        ("Why is this 7?", {"fields": ["preview_sku"]}),
    ]

    def changeform_view(self, request: HttpRequest, object_id=None, form_url="", extra_context=None) -> HttpResponse:
        if request.method == "POST" and "_preview" in request.POST:
            return self._preview(request, object_id, form_url, extra_context)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _preview(self, request: HttpRequest, object_id, form_url: str, extra_context) -> HttpResponse:
        """Validate the form and show the chosen listing's breakdown under the unsaved values; save nothing.
        Permissions first: a preview computes with the posted values, which only someone who may save them
        (add, or change this policy) may try."""
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        if object_id and obj is None:
            raise Http404("No inventory policy with this id.")
        add = obj is None
        if not (self.has_add_permission(request) if add else self.has_change_permission(request, obj)):
            raise PermissionDenied
        form = self.get_form(request, obj, change=not add)(request.POST, instance=obj)
        preview, problem = [], ""
        if form.is_valid():
            policy = form.save(commit=False)
            mapping = form.preview_mapping()
            excluded = {w.pk for w in form.cleaned_data.get("excluded_warehouses", [])}
            if mapping is not None:
                try:
                    preview = quantity_breakdown(
                        rules=policy_rules(policy, excluded_warehouse_ids=excluded), mapping=mapping
                    )
                except InventorySetupError as exc:
                    problem = str(exc)
                problem = problem or (
                    "" if preview else "This listing gets no quantity: no channel warehouse is paired."
                )
        admin_form = helpers.AdminForm(form, list(self.get_fieldsets(request, obj)), {}, model_admin=self)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{'Add' if add else 'Change'} inventory policy (preview, not saved)",
            "subtitle": None,
            "adminform": admin_form,
            "object_id": object_id,
            "original": obj,
            "is_popup": False,
            "to_field": None,
            "media": self.media + admin_form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            "preview": preview,
            "preview_problem": problem,
            **(extra_context or {}),
        }
        return self.render_change_form(request, context, add=add, change=not add, obj=obj, form_url=form_url)
