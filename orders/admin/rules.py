"""Customers and each sales channel's order rules (submission, hooks, shipment upload mode); the go-live date
is the channel's own, shown here with a link to the channel page where it is set."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.views.decorators.debug import sensitive_post_parameters

from integrations.models import CREDENTIALS_PERMISSION, Channel, ChannelRole
from orders.models import Customer, OrderRules, ShipmentUploadMode


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
        label="Hook secret",
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
        "go_live",
        "ship_to_countries",
        "required_tags",
        "require_customer",
        "shipment_upload",
    )
    list_select_related = ("channel",)
    readonly_fields = ("go_live", "notification_url")

    def get_readonly_fields(self, request, obj=None):
        # The hook secret is a channel credential: without that permission it is taken out of the form.
        hidden = [] if request.user.has_perm(CREDENTIALS_PERMISSION) else ["hook_secret"]
        return [*super().get_readonly_fields(request, obj), *hidden]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if request.user.has_perm(CREDENTIALS_PERMISSION) else [f for f in fields if f != "hook_secret"]

    @method_decorator(sensitive_post_parameters("hook_secret"))
    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The hook secret is posted here: keep it out of error reports.
        return super().changeform_view(request, *args, **kwargs)

    def construct_change_message(self, request: HttpRequest, form: Any, formsets: Any, add: bool = False) -> list:
        """The history entry names the fields that changed, except the hook secret (like channel credentials)."""
        message = super().construct_change_message(request, form, formsets, add)
        field = form.fields.get("hook_secret")  # absent without the credentials permission
        secret = str(field.label) if field else None
        for entry in message:
            for change in entry.values():
                if isinstance(change, dict) and "fields" in change:
                    change["fields"] = [label for label in change["fields"] if label != secret]
        return message

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "channel":
            kwargs["queryset"] = Channel.objects.filter(role=ChannelRole.SALES)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="go-live date")
    def go_live(self, rules: OrderRules) -> str:
        """The go-live date is the channel's, set on its page (where order download is switched on): a link there."""
        if not rules.pk:
            return "Set on the channel's page (Integrations → Channels), with its flows."
        channel = rules.channel
        url = reverse("admin:integrations_channel_change", args=[channel.pk])
        date = localize(localtime(channel.go_live_at)) if channel.go_live_at else "not set"
        return format_html('{} — <a href="{}">set on the channel page</a>', date, url)

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
