"""What the orders, shipments and rules pages share: read-only inlines, a shipment's columns, and
the HTML of JSON and addresses."""

import json

from django.contrib import admin
from django.db.models import Prefetch, QuerySet
from django.utils.html import format_html, format_html_join

from integrations.display import badge, cut, narrow, stacked, when
from integrations.models import Channel, ChannelRole
from orders.models import Shipment, ShipmentLine, ShipmentUpload, UploadState


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


class ShipmentColumns:
    """A shipment's units and upload state, for the shipments list, its page and the order page's inline:
    the lines and uploads are prefetched (two queries for any number of shipments)."""

    # The invoice number and the carrier read under the tracking number, so the list fits a 1400 px screen.
    columns = ("tracking", "shipped", "units", "upload_state")

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

    @admin.display(description="tracking")
    def tracking(self, shipment: Shipment) -> str:
        invoice = f"invoice {shipment.invoice_number}" if shipment.invoice_number else ""
        detail = " · ".join(filter(None, [self.carrier_service(shipment), invoice]))
        return stacked(narrow(shipment.tracking_number or "-", key=True), detail)

    @admin.display(description="shipped")
    def shipped(self, shipment: Shipment) -> str:
        return when(shipment.shipped_at)

    @admin.display(description="upload")
    def upload_state(self, shipment: Shipment) -> str:
        uploads = list(shipment.uploads.all())
        if not uploads:
            return badge("pending", "not uploaded", tone="mute")
        return format_html_join("", "<div>{}</div>", ((upload_summary(upload),) for upload in uploads))


def upload_summary(upload: ShipmentUpload) -> str:
    """The upload's state as a badge; how many tries and the channel's last refusal (cut) under it."""
    label = f"correction {upload.state}" if upload.correction else upload.get_state_display().lower()
    if upload.state == UploadState.SENT:
        return badge(upload.state, label)
    tries = f"{upload.attempts} attempt{'s' if upload.attempts != 1 else ''}" if upload.attempts else ""
    return stacked(
        badge(upload.state, label),
        format_html_join(": ", "{}", ((p,) for p in (tries, cut(upload.last_error, 80)) if p)),
    )


def json_html(data: object) -> str:
    return format_html("<pre>{}</pre>", json.dumps(data, indent=2, sort_keys=True, default=str))


def address_html(address: dict) -> str:
    parts = [
        address.get(name) for name in ("name", "company", "line1", "line2", "city", "state", "postal_code", "country")
    ]
    return format_html_join("", "{}<br>", ((part,) for part in parts if part))
