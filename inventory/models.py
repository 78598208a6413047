"""Internal warehouses and their stock, the channels' warehouses and how they pair, the per-channel quantity
policy, and the push outbox/ledger and discrepancy report that keep channels in step."""

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalog.upload_storage import upload_storage
from integrations.models import ImportJob, ImportStatus


class Warehouse(models.Model):
    """An internal (fulfillment system) warehouse, created by code when its stock is first downloaded."""

    code = models.CharField(max_length=50, unique=True)
    name = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True, help_text="Inactive warehouses feed no channel.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class StockLevel(models.Model):
    """One item's stock in one warehouse, as the fulfillment system last reported it."""

    item = models.ForeignKey("catalog.Item", on_delete=models.CASCADE, related_name="stock_levels")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="stock_levels")
    on_hand = models.IntegerField(default=0)
    allocated = models.IntegerField(default=0, help_text="Open (allocated to orders) quantity.")
    available = models.IntegerField(default=0, help_text="Available to sell (ATS).")
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "warehouse"], name="uniq_stock_item_warehouse")]

    def __str__(self) -> str:
        return f"{self.item} in {self.warehouse}: {self.available} available"


class IncomingSupply(models.Model):
    """A purchase-order line not yet received: stock expected in a warehouse on a date."""

    item = models.ForeignKey("catalog.Item", on_delete=models.CASCADE, related_name="incoming_supply")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="incoming_supply")
    quantity = models.PositiveIntegerField()
    expected_date = models.DateField(null=True, blank=True, db_index=True)
    purchase_order = models.CharField(max_length=60, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "incoming supply"
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "purchase_order", "item"], name="uniq_supply_po_line"),
        ]

    def __str__(self) -> str:
        return f"{self.purchase_order or 'No PO'}: {self.quantity} of {self.item} on {self.expected_date}"


class InventoryImportKind(models.TextChoices):
    STOCK = "stocklevel", "Stock levels"
    SUPPLY = "incomingsupply", "Incoming supply"


class InventoryImport(ImportJob):
    """One stock-level or incoming-supply spreadsheet uploaded in the admin, from its preview to its import
    (inventory/import_jobs.py). Its owner alone sees and confirms it; its file goes as soon as it cannot go on."""

    owner = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="inventory_imports")
    kind = models.CharField(max_length=20, choices=InventoryImportKind.choices)
    upload = models.FileField(storage=upload_storage, upload_to="inventory/", blank=True, max_length=200)

    class Meta:
        indexes = [models.Index(fields=["owner", "kind", "-created_at"], name="inventory_import_owner_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ImportStatus.values), name="inventory_import_status_valid"),
            models.CheckConstraint(
                condition=Q(kind__in=InventoryImportKind.values), name="inventory_import_kind_valid"
            ),
        ]


class ChannelWarehouse(models.Model):
    """A sales channel's DC/warehouse/location, downloaded from the channel, fed by paired internal warehouses."""

    channel = models.ForeignKey("integrations.Channel", on_delete=models.CASCADE, related_name="channel_warehouses")
    external_id = models.CharField("channel's id", max_length=100)
    name = models.CharField(max_length=200, blank=True)
    code = models.CharField(max_length=100, blank=True)
    active = models.BooleanField(default=True)
    warehouses = models.ManyToManyField(
        Warehouse, through="WarehousePairing", related_name="channel_warehouses", blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel", "name"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="uniq_channel_warehouse_external_id")
        ]

    def __str__(self) -> str:
        return self.name or self.code or self.external_id


class WarehousePairing(models.Model):
    """Internal warehouse → channel warehouse; one internal warehouse may feed several channel warehouses."""

    channel_warehouse = models.ForeignKey(ChannelWarehouse, on_delete=models.CASCADE, related_name="pairings")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="pairings")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel_warehouse", "warehouse"], name="uniq_pairing"),
        ]
        verbose_name_plural = "warehouse pairing"  # the menu entry: Inventory → Warehouse pairing

    def __str__(self) -> str:
        return f"{self.warehouse} → {self.channel_warehouse}"


class InventoryPolicy(models.Model):
    """How one sales channel's quantities are computed and pushed (see docs/inventory.md)."""

    class Source(models.TextChoices):
        AVAILABLE = "available", "Available to sell (ATS)"
        ON_HAND = "on_hand", "On hand (in stock)"
        FORMULA = "formula", "Formula"

    class Mode(models.TextChoices):
        PER_WAREHOUSE = "per_warehouse", "Per channel warehouse (its paired warehouses)"
        COMBINED = "combined", "Combined: all warehouses except the excluded ones"

    class PushMode(models.TextChoices):
        ABSOLUTE = "absolute", "Absolute: set the quantity"
        RELATIVE = "relative", "Relative: send the change (adjust)"

    channel = models.OneToOneField("integrations.Channel", on_delete=models.CASCADE, related_name="inventory_policy")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.AVAILABLE)
    formula = models.TextField(
        blank=True, help_text="With source 'formula', e.g. <code>on_hand - open + incoming_30d * 0.5</code>."
    )
    buffer = models.PositiveIntegerField("safety buffer", default=0, help_text="Units held back per listing.")
    maximum = models.PositiveIntegerField(null=True, blank=True, help_text="Never send more than this.")
    share_percent = models.PositiveSmallIntegerField(
        "share of stock (%)", default=100, validators=[MaxValueValidator(100)]
    )
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.PER_WAREHOUSE)
    excluded_warehouses = models.ManyToManyField(
        Warehouse, blank=True, related_name="excluded_by_policies", help_text="Combined mode: left out of the total."
    )
    combined_target = models.ForeignKey(
        ChannelWarehouse,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Combined mode: the channel warehouse that receives the total (blank: the channel's only one).",
    )
    push_mode = models.CharField(max_length=20, choices=PushMode.choices, default=PushMode.ABSOLUTE)
    incoming_days = models.PositiveSmallIntegerField(
        "include incoming within (days)", default=0, help_text="0: incoming supply is not included."
    )
    incoming_as_wip = models.BooleanField(
        "send incoming as WIP buckets",
        default=False,
        help_text="Send incoming supply as dated buckets by purchase-order date (NuORDER WIP) instead of adding it.",
    )
    minimum_level = models.PositiveIntegerField(default=0, help_text="Below this quantity, send 0.")
    subtract_pending_orders = models.BooleanField(
        default=True,
        help_text="Subtract orders the hub downloaded that the fulfillment system has not allocated yet.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "inventory policies"
        constraints = [
            models.CheckConstraint(condition=Q(source__in=["available", "on_hand", "formula"]), name="policy_source"),
            models.CheckConstraint(condition=Q(mode__in=["per_warehouse", "combined"]), name="policy_mode"),
            models.CheckConstraint(condition=Q(push_mode__in=["absolute", "relative"]), name="policy_push_mode"),
            models.CheckConstraint(condition=Q(share_percent__lte=100), name="policy_share_at_most_100"),
            models.CheckConstraint(condition=~Q(source="formula") | ~Q(formula=""), name="policy_formula_given"),
        ]

    def __str__(self) -> str:
        return f"Inventory policy of {self.channel}"

    def clean(self) -> None:
        from inventory.policies import policy_errors

        policy_errors(self)


class PushLedger(models.Model):
    """The last quantity a channel accepted (or reported) for one listing in one channel warehouse."""

    mapping = models.ForeignKey("catalog.ItemMapping", on_delete=models.CASCADE, related_name="push_ledger")
    channel_warehouse = models.ForeignKey(ChannelWarehouse, on_delete=models.CASCADE, related_name="ledger")
    quantity = models.IntegerField()
    incoming = models.JSONField(default=list, blank=True)  # [[iso date, qty], ...] when pushed as WIP buckets
    accepted_at = models.DateTimeField()

    class Meta:
        verbose_name = "push ledger entry"
        verbose_name_plural = "push ledger"
        constraints = [
            models.UniqueConstraint(fields=["mapping", "channel_warehouse"], name="uniq_ledger_listing_warehouse")
        ]

    def __str__(self) -> str:
        return f"{self.mapping} at {self.channel_warehouse}: {self.quantity}"


class PushIntent(models.Model):
    """The outbox: a quantity push recorded before it is sent, settled when the channel accepts it (or by a read)."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending (not sent yet)"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent (accepted)"
        UNKNOWN = "unknown", "Outcome unknown"
        FAILED = "failed", "Failed (not applied)"
        SUPERSEDED = "superseded", "Superseded (never sent)"

    UNSETTLED = (State.PENDING, State.SENDING, State.UNKNOWN)

    mapping = models.ForeignKey("catalog.ItemMapping", on_delete=models.CASCADE, related_name="push_intents")
    channel_warehouse = models.ForeignKey(ChannelWarehouse, on_delete=models.CASCADE, related_name="push_intents")
    mode = models.CharField(max_length=20, choices=InventoryPolicy.PushMode.choices)
    quantity = models.IntegerField(help_text="The quantity the channel should have once this is applied.")
    delta = models.IntegerField(null=True, blank=True, help_text="Relative pushes: the change sent.")
    base = models.IntegerField(null=True, blank=True, help_text="Relative pushes: the ledger quantity before it.")
    incoming = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    claim = models.CharField(max_length=32, blank=True, db_index=True)
    # The sender's process (host:pid:start time, as a SQLite lease names its holder): a claim whose sender is
    # known dead is settled at once instead of blocking its listing until the claim is stale.
    claimed_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Nothing more is sent for a listing while an earlier push to it is unsettled.
            models.UniqueConstraint(
                fields=["mapping", "channel_warehouse"],
                condition=Q(state__in=["pending", "sending", "unknown"]),
                name="uniq_unsettled_intent",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "sending", "sent", "unknown", "failed", "superseded"]),
                name="intent_state_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "created_at"], name="intent_state_idx"),
            # The dashboard's pushes-per-day chart reads a date range across every state.
            models.Index(fields=["created_at"], name="intent_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.mapping} at {self.channel_warehouse}: {self.quantity} ({self.get_state_display().lower()})"


class Discrepancy(models.Model):
    """A listing whose quantity on the channel differs from what the hub computes; refreshed per reconcile run."""

    channel = models.ForeignKey("integrations.Channel", on_delete=models.CASCADE, related_name="discrepancies")
    mapping = models.ForeignKey("catalog.ItemMapping", on_delete=models.CASCADE, related_name="discrepancies")
    channel_warehouse = models.ForeignKey(ChannelWarehouse, on_delete=models.CASCADE, related_name="discrepancies")
    hub_quantity = models.IntegerField()
    channel_quantity = models.IntegerField(null=True, blank=True, help_text="Blank: the channel reports none.")
    last_pushed = models.IntegerField(null=True, blank=True)
    last_pushed_at = models.DateTimeField(null=True, blank=True)
    found_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "discrepancies"
        ordering = ["channel", "mapping__channel_sku"]
        constraints = [
            models.UniqueConstraint(fields=["mapping", "channel_warehouse"], name="uniq_discrepancy_listing_warehouse")
        ]

    def __str__(self) -> str:
        return f"{self.mapping} at {self.channel_warehouse}: hub {self.hub_quantity}, channel {self.channel_quantity}"

    @property
    def difference(self) -> int | None:
        return None if self.channel_quantity is None else self.channel_quantity - self.hub_quantity
