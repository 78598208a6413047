from django.db import models
from django.db.models import Case, F, Q, Value, When

from catalog.upload_storage import upload_storage
from integrations.models import ImportJob, ImportStatus


class Item(models.Model):
    """The fulfillment system's item: the master record every listing maps to."""

    sku = models.CharField(max_length=100, unique=True)
    item_number = models.CharField(max_length=60, db_index=True)
    color_code = models.CharField(max_length=30, blank=True)
    prepack_run = models.CharField(max_length=30, blank=True)
    size = models.CharField(max_length=30, blank=True)
    upc = models.CharField("UPC", max_length=20, blank=True)
    description = models.CharField(max_length=300, blank=True)
    wholesale_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    retail_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.UniqueConstraint(fields=["upc"], condition=~Q(upc=""), name="uniq_item_upc_when_set"),
        ]
        indexes = [models.Index(fields=["item_number", "color_code"], name="item_style_color_idx")]

    def __str__(self) -> str:
        return self.sku


class BundleComponent(models.Model):
    bundle = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="components")
    component = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="used_in_bundles")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bundle", "component"], name="uniq_bundle_component"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="bundle_component_qty_positive"),
            models.CheckConstraint(condition=~Q(bundle=F("component")), name="bundle_not_own_component"),
        ]

    def __str__(self) -> str:
        return f"{self.bundle} = {self.quantity} x {self.component}"


class MappingMethod(models.TextChoices):
    UPC = "upc", "UPC match"
    SKU_PATTERN = "sku_pattern", "SKU pattern"
    MANUAL = "manual", "Manual"
    IMPORT = "import", "Imported"


class MappingStatus(models.TextChoices):
    UNMAPPED = "unmapped", "Unmapped"
    MAPPED = "mapped", "Mapped"
    CONFLICT = "conflict", "Conflict"
    IGNORED = "ignored", "Ignored"


# Methods a person chose; auto-mapping never overwrites them.
PROTECTED_METHODS = (MappingMethod.MANUAL, MappingMethod.IMPORT)

# The mapping screen's work order: conflicts, then unmapped, then mapped, then ignored. Stored as a
# generated column so the screen's default ORDER BY ... LIMIT walks an index on a million listings.
REVIEW_RANK = Case(
    When(status=MappingStatus.CONFLICT, then=Value(0)),
    When(status=MappingStatus.UNMAPPED, then=Value(1)),
    When(status=MappingStatus.MAPPED, then=Value(2)),
    default=Value(3),
    output_field=models.SmallIntegerField(),
)


class ItemMapping(models.Model):
    """One channel listing and the item it is mapped to."""

    channel = models.ForeignKey("integrations.Channel", on_delete=models.CASCADE, related_name="mappings")
    channel_sku = models.CharField("channel SKU", max_length=200)
    channel_product_id = models.CharField("channel product id", max_length=100, blank=True)
    channel_upc = models.CharField("channel UPC", max_length=20, blank=True)
    title = models.CharField(max_length=300, blank=True)
    item = models.ForeignKey(Item, null=True, blank=True, on_delete=models.PROTECT, related_name="mappings")
    method = models.CharField(max_length=20, choices=MappingMethod.choices, blank=True)
    status = models.CharField(max_length=20, choices=MappingStatus.choices, default=MappingStatus.UNMAPPED)
    # What auto-mapping would choose, when it differs from the current item (e.g. for a manual mapping).
    suggested_item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.SET_NULL, related_name="suggested_for"
    )
    note = models.TextField(blank=True, help_text="Why it is mapped this way, or the candidates of a conflict.")
    review_rank = models.GeneratedField(
        expression=REVIEW_RANK, output_field=models.SmallIntegerField(), db_persist=True
    )
    # Images, attributes and aliases downloaded with the listing, kept as data.
    data = models.JSONField(blank=True, default=dict)
    # Set by the catalog download on new and changed listings, cleared once auto-mapping has looked at them
    # (in the run's last transaction), so a run that dies in between leaves them flagged for the next one.
    automap_pending = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "item mapping"
        constraints = [
            models.UniqueConstraint(fields=["channel", "channel_sku"], name="uniq_mapping_channel_sku"),
            models.CheckConstraint(condition=Q(status__in=MappingStatus.values), name="mapping_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=MappingStatus.MAPPED) | Q(item__isnull=False),
                name="mapped_listing_has_item",
            ),
        ]
        indexes = [
            models.Index(fields=["channel", "status"], name="mapping_channel_status_idx"),
            models.Index(fields=["status", "method"], name="mapping_status_method_idx"),
            models.Index(fields=["channel_upc"], name="mapping_channel_upc_idx"),
            models.Index(fields=["channel", "channel_product_id"], name="mapping_product_id_idx"),
            models.Index(fields=["review_rank", "-id"], name="mapping_review_idx"),
            models.Index(fields=["channel", "review_rank", "-id"], name="mapping_channel_review_idx"),
            models.Index(
                fields=["channel", "id"], condition=Q(automap_pending=True), name="mapping_automap_pending_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.channel_sku  # the channel is its own column wherever a listing is listed


class UploadKind(models.TextChoices):
    PRODUCT = "product", "Product"
    CUSTOMER = "customer", "Customer"


class ChannelUpload(models.Model):
    """What a channel last accepted of one uploaded record (a product: style and colour; a customer): a hash
    of what was sent, so the next upload sends only what changed, and the channel's own id for it."""

    channel = models.ForeignKey("integrations.Channel", on_delete=models.CASCADE, related_name="uploads")
    kind = models.CharField(max_length=20, choices=UploadKind.choices)
    key = models.CharField(max_length=200, help_text="The record's key: style|colour, or the customer's id.")
    content_hash = models.CharField(max_length=64)
    channel_ref = models.CharField("channel id", max_length=100, blank=True)
    accepted_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "kind", "key"], name="uniq_upload_channel_kind_key"),
            models.CheckConstraint(condition=Q(kind__in=UploadKind.values), name="upload_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key} on {self.channel}"


class MappingImport(ImportJob):
    """One mapping spreadsheet uploaded in the admin, from its preview to its import (catalog/import_jobs.py).
    Its owner alone sees and confirms it; the stored file is deleted as soon as the job cannot go on."""

    owner = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="mapping_imports")
    upload = models.FileField(storage=upload_storage, upload_to="mappings/", blank=True, max_length=200)
    stopping = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["owner", "-created_at"], name="mapping_import_owner_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ImportStatus.values), name="mapping_import_status_valid")
        ]
