"""Forms of the inventory screens: the policy (formula checked on save, a listing to preview) and pairing."""

from typing import Any

from django import forms

from catalog.models import ItemMapping
from integrations.models import Channel, ChannelRole
from inventory.models import ChannelWarehouse, InventoryPolicy, Warehouse


class InventoryPolicyForm(forms.ModelForm):
    """The model's clean() refuses a formula that cannot run, with the position and the reason."""

    preview_sku = forms.CharField(
        label="Preview listing",
        required=False,
        help_text="A channel SKU of this channel: “Preview” shows its quantity and why, without saving.",
    )

    class Meta:
        model = InventoryPolicy
        fields = [
            "channel", "source", "formula", "buffer", "maximum", "share_percent", "minimum_level", "mode",
            "excluded_warehouses", "combined_target", "push_mode", "incoming_days", "incoming_as_wip",
            "subtract_pending_orders",
        ]  # fmt: skip
        widgets = {
            "excluded_warehouses": forms.CheckboxSelectMultiple,
            "formula": forms.Textarea(attrs={"rows": 2, "cols": 60, "spellcheck": "false"}),
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if "channel" in self.fields:
            self.fields["channel"].queryset = Channel.objects.filter(role=ChannelRole.SALES)
        if "combined_target" in self.fields and self.instance.channel_id:
            self.fields["combined_target"].queryset = ChannelWarehouse.objects.filter(
                channel_id=self.instance.channel_id
            )

    def preview_mapping(self) -> ItemMapping | None:
        """The listing chosen for the preview; adds a form error when the SKU is not this channel's."""
        sku = (self.cleaned_data.get("preview_sku") or "").strip()
        channel = self.cleaned_data.get("channel") or getattr(self.instance, "channel", None)
        if not sku or channel is None:
            return None
        mapping = ItemMapping.objects.filter(channel=channel, channel_sku=sku).select_related("item").first()
        if mapping is None:
            self.add_error("preview_sku", f"{channel} has no listing with SKU {sku}.")
        elif mapping.item_id is None or mapping.status != "mapped":
            self.add_error("preview_sku", f"{sku} is {mapping.get_status_display().lower()}: it gets no quantity.")
            return None
        return mapping


class PairingForm(forms.Form):
    """One row of checkboxes per channel warehouse, plus the combined mode's exclusions and target."""

    mode = forms.ChoiceField(choices=InventoryPolicy.Mode.choices, widget=forms.RadioSelect)
    excluded = forms.ModelMultipleChoiceField(
        queryset=Warehouse.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Combined mode: leave out",
    )
    combined_target = forms.ModelChoiceField(
        queryset=ChannelWarehouse.objects.none(),
        required=False,
        widget=forms.RadioSelect,
        label="Combined mode: send the total to",
        empty_label=None,
    )

    def __init__(self, *args: Any, channel: Channel, channel_warehouses: list[ChannelWarehouse], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.channel, self.channel_warehouses = channel, channel_warehouses
        warehouses = Warehouse.objects.order_by("code")
        self.fields["excluded"].queryset = warehouses
        self.fields["combined_target"].queryset = ChannelWarehouse.objects.filter(channel=channel)
        for cw in channel_warehouses:
            self.fields[self.field_name(cw)] = forms.ModelMultipleChoiceField(
                queryset=warehouses, required=False, widget=forms.CheckboxSelectMultiple, label=str(cw)
            )

    @staticmethod
    def field_name(channel_warehouse: ChannelWarehouse) -> str:
        return f"cw_{channel_warehouse.pk}"

    def rows(self) -> list[tuple[ChannelWarehouse, forms.BoundField]]:
        return [(cw, self[self.field_name(cw)]) for cw in self.channel_warehouses]

    def pairs(self) -> dict[int, list[int]]:
        return {cw.pk: [w.pk for w in self.cleaned_data[self.field_name(cw)]] for cw in self.channel_warehouses}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        several = sum(1 for cw in self.channel_warehouses if cw.active) > 1
        if data.get("mode") == InventoryPolicy.Mode.COMBINED and several and not data.get("combined_target"):
            self.add_error("combined_target", "With several channel warehouses, choose the one that gets the total.")
        return data
