"""Orders downloaded from the sales channels, their lines (bundles split into components), the customers
they belong to, and the audit trail. Statuses change only through `orders.states.order_transition`."""

from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class OrderStatus(models.TextChoices):
    """The vocabulary; the allowed moves between these are in orders/states.py."""

    DOWNLOADED = "downloaded", "Downloaded"
    HELD = "held", "Held"
    FAILED = "failed", "Submission failed"
    SUBMITTED = "submitted", "Submitted"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    BATCHED = "batched", "Batched (locked)"
    PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
    SHIPPED = "shipped", "Shipped"
    CANCELLED = "cancelled", "Cancelled"
    DELETED = "deleted", "Deleted from fulfillment"
    RESUBMITTED = "resubmitted", "Resubmitted"


class HoldReason(models.TextChoices):
    UNMAPPED_SKU = "unmapped_sku", "SKU not mapped"
    INACTIVE_ITEM = "inactive_item", "Item inactive"
    NO_CUSTOMER = "no_customer", "Customer missing"
    SHIP_TO_INCOMPLETE = "ship_to_incomplete", "Ship-to incomplete"


class EventKind(models.TextChoices):
    STATUS = "status", "Status change"
    CHANGED = "changed", "Changed on the channel"
    HOLD = "hold", "Hold reason"
    SUBMIT = "submit", "Submission"
    SHIPMENT = "shipment", "Shipment"
    CANCEL = "cancel", "Cancellation"
    NOTE = "note", "Note"


class ShipmentUploadMode(models.TextChoices):
    EACH = "each", "Send each shipment as it comes"
    COMPLETE = "complete", "Wait until the order is complete, then send its shipments"


class UploadState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Customer(models.Model):
    """A buyer as one channel knows it (NuORDER retailer, Extensiv customer, a marketplace buyer)."""

    # Indexed by the unique constraint (channel first); likewise for the other covered foreign keys below.
    channel = models.ForeignKey(
        "integrations.Channel", on_delete=models.PROTECT, related_name="customers", db_index=False
    )
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=254, blank=True)
    code = models.CharField(max_length=100, blank=True)
    billing_address = models.JSONField(blank=True, default=dict)
    shipping_address = models.JSONField(blank=True, default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "external_id"], name="uniq_customer_channel_ext")]
        indexes = [models.Index(fields=["name"], name="customer_name_idx")]

    def __str__(self) -> str:
        return self.name or self.external_id


class Order(models.Model):
    """A channel order and its journey through the fulfillment system."""

    channel = models.ForeignKey("integrations.Channel", on_delete=models.PROTECT, related_name="orders", db_index=False)
    external_id = models.CharField("channel order id", max_length=100)
    number = models.CharField("channel order number", max_length=100)
    fulfillment_number = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.DOWNLOADED)
    hold_reason = models.CharField(max_length=30, choices=HoldReason.choices, blank=True)
    hold_detail = models.TextField(blank=True, help_text="Every reason the order is held, in words.")
    channel_status = models.CharField(max_length=50, blank=True, help_text="The status the channel reports.")
    placed_at = models.DateTimeField()
    channel_updated_at = models.DateTimeField(null=True, blank=True)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    ship_to = models.JSONField(blank=True, default=dict)
    bill_to = models.JSONField(blank=True, default=dict)
    shipping_method = models.CharField(max_length=200, blank=True)
    # DjangoJSONEncoder: a connector's attributes may carry a Decimal or a date; they are stored as text.
    attributes = models.JSONField(
        blank=True, default=dict, encoder=DjangoJSONEncoder, help_text="Tags, site, notes, custom fields."
    )
    currency = models.CharField(max_length=3, default="USD")
    total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    raw = models.JSONField("raw payload", blank=True, default=dict, encoder=DjangoJSONEncoder)
    # Hashes of the normalised record: all of it, and the part the fulfillment system received. Equal
    # content means the download writes nothing; a changed fulfillment part after submission is flagged.
    content_hash = models.CharField(max_length=32, blank=True)
    fulfillment_hash = models.CharField(max_length=32, blank=True)
    changed_after_submit = models.BooleanField(default=False)
    cancel_requested = models.BooleanField(
        default=False, help_text="Cancelled on the channel while the fulfillment system could not delete it."
    )
    # Submission bookkeeping: the key is stored (and committed) before the request is sent.
    # Set while a submission is in flight (claimed before sending): a cancellation that arrives meanwhile
    # leaves the order to the submission instead of cancelling it here while the warehouse receives it.
    submitting_at = models.DateTimeField(null=True, blank=True)
    # Who claimed it (host:pid:start time, as a SQLite lease names its holder): a claim whose process is known
    # dead is taken over at once, instead of leaving the order unsent until the claim is stale.
    submitting_by = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=255, blank=True)
    resubmissions = models.PositiveIntegerField(default=0)
    submit_attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    first_failure_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-placed_at", "-id"]
        permissions = [("delete_resubmit_order", "Can delete orders from fulfillment and resubmit them")]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="uniq_order_channel_ext"),
            models.CheckConstraint(condition=Q(status__in=OrderStatus.values), name="order_status_valid"),
            models.CheckConstraint(
                condition=Q(hold_reason="") | Q(hold_reason__in=HoldReason.values), name="order_hold_reason_valid"
            ),
            # Held exactly when there is a reason: a release clears it in the same UPDATE.
            models.CheckConstraint(
                condition=(Q(status=OrderStatus.HELD) & ~Q(hold_reason=""))
                | (~Q(status=OrderStatus.HELD) & Q(hold_reason="")),
                name="order_held_has_reason",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
        ]
        indexes = [
            # The changelist's default order, and one per filter so a filtered first page walks an index.
            models.Index(fields=["-placed_at", "-id"], name="order_placed_idx"),
            models.Index(fields=["channel", "-placed_at", "-id"], name="order_channel_placed_idx"),
            models.Index(fields=["status", "-placed_at", "-id"], name="order_status_placed_idx"),
            models.Index(
                fields=["hold_reason", "-placed_at", "-id"], condition=~Q(hold_reason=""), name="order_hold_placed_idx"
            ),
            # Search by any order number.
            models.Index(fields=["number"], name="order_number_idx"),
            models.Index(fields=["fulfillment_number"], name="order_fulfillment_number_idx"),
            models.Index(fields=["external_id"], name="order_external_id_idx"),
            # The submit and acknowledge flows' work queues.
            models.Index(fields=["channel", "status", "next_attempt_at"], name="order_work_queue_idx"),
        ]

    def __str__(self) -> str:
        return self.number or self.external_id


class OrderLine(models.Model):
    """A channel line; a bundle line keeps its place and gets its components as child lines."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_index=False)
    external_id = models.CharField("channel line id", max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="components")
    is_bundle = models.BooleanField(default=False, help_text="Split into component lines; not sent itself.")
    position = models.PositiveIntegerField(default=0)
    channel_sku = models.CharField("channel SKU", max_length=200, blank=True)
    title = models.CharField(max_length=300, blank=True)
    mapping = models.ForeignKey(
        "catalog.ItemMapping", null=True, blank=True, on_delete=models.SET_NULL, related_name="order_lines"
    )
    item = models.ForeignKey(
        "catalog.Item", null=True, blank=True, on_delete=models.PROTECT, related_name="order_lines"
    )
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    # Changed only with F() updates (`quantity_shipped = F("quantity_shipped") + n`); the check below
    # makes an over-shipment fail in the database instead of being stored.
    quantity_shipped = models.PositiveIntegerField(default=0)
    quantity_cancelled = models.PositiveIntegerField(default=0)
    # The channel's own facts about the line (NuORDER: warehouse, prebook, ship_start/ship_end, discount,
    # original_price); the ship window and warehouse go to the fulfillment system with the order.
    attributes = models.JSONField(blank=True, default=dict, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["order", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "external_id"], name="uniq_orderline_order_ext"),
            models.CheckConstraint(
                condition=Q(quantity__gte=0) & Q(quantity_shipped__gte=0) & Q(quantity_cancelled__gte=0),
                name="orderline_quantities_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=F("quantity_shipped") + F("quantity_cancelled")),
                name="orderline_not_over_fulfilled",
            ),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="orderline_price_not_negative"),
        ]
        indexes = [models.Index(fields=["channel_sku"], name="orderline_channel_sku_idx")]

    def __str__(self) -> str:
        return f"{self.label}, qty {self.quantity}"

    @property
    def label(self) -> str:
        """What a person calls the line: its SKU on the channel, else its title, else the channel's line id."""
        return self.channel_sku or self.title or f"line {self.external_id}"

    @property
    def quantity_open(self) -> int:
        return self.quantity - self.quantity_shipped - self.quantity_cancelled


class Shipment(models.Model):
    """A shipment (with its invoice) from the fulfillment system; its lines add to the order lines' shipped
    quantities exactly once, when it is first stored."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments", db_index=False)
    # The order's sales channel, copied so the shipments list filters and sorts on one index.
    channel = models.ForeignKey(
        "integrations.Channel", on_delete=models.PROTECT, related_name="shipments", db_index=False
    )
    external_id = models.CharField("fulfillment shipment id", max_length=100)
    invoice_number = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    carrier = models.CharField(max_length=100, blank=True)
    service = models.CharField(max_length=100, blank=True)
    warehouse = models.CharField("ship-from warehouse", max_length=100, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["order", "external_id"], name="uniq_shipment_order_ext")]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="shipment_created_idx"),
            models.Index(fields=["channel", "-created_at", "-id"], name="shipment_channel_created_idx"),
            models.Index(fields=["tracking_number"], name="shipment_tracking_idx"),
            models.Index(fields=["invoice_number"], name="shipment_invoice_idx"),
            models.Index(fields=["external_id"], name="shipment_external_id_idx"),
        ]

    def __str__(self) -> str:
        return self.tracking_number or self.external_id


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines", db_index=False)
    order_line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="shipment_lines")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["shipment", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "order_line"], name="uniq_shipmentline_line"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="shipmentline_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order_line.label}, qty {self.quantity}"


class ShipmentUpload(models.Model):
    """The outbox: one row per shipment per channel it must reach. `attempts` is counted (and committed)
    before each call, so a row with attempts is checked against the channel before it is sent again.
    A sent row whose shipment's tracking, carrier or service changes is queued again as a `correction`."""

    tried_before: bool  # not a column: set in memory by ShipmentSender.claim, before it counts this attempt

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="uploads", db_index=False)
    channel = models.ForeignKey(
        "integrations.Channel", on_delete=models.CASCADE, related_name="shipment_uploads", db_index=False
    )
    state = models.CharField(max_length=10, choices=UploadState.choices, default=UploadState.PENDING)
    correction = models.BooleanField(
        default=False, help_text="Sent before; the tracking, carrier or service changed since and goes again."
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["shipment", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "channel"], name="uniq_shipmentupload_channel"),
            models.CheckConstraint(condition=Q(state__in=UploadState.values), name="shipmentupload_state_valid"),
        ]
        # The upload flow's work queue; the admin's upload-state filter.
        indexes = [
            models.Index(fields=["channel", "state", "next_attempt_at"], name="shipmentupload_queue_idx"),
            # The dashboard's "failed shipment uploads": a handful of rows among millions, counted by shipment.
            models.Index(fields=["shipment"], condition=Q(state="failed"), name="shipmentupload_failed_idx"),
        ]

    def __str__(self) -> str:
        return f"shipment {self.shipment} to {self.channel}: {self.get_state_display().lower()}"


class OrderEvent(models.Model):
    """One thing that happened to an order, by a person (user) or the system (no user)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    from_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    message = models.TextField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="order_events"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["order", "created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(kind__in=EventKind.values), name="orderevent_kind_valid")]
        indexes = [models.Index(fields=["order", "created_at"], name="orderevent_order_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message[:60]}"

    @property
    def actor(self) -> str:
        return str(self.user) if self.user_id else "system"


class OrderRules(models.Model):
    """Per sales channel: which orders are imported and what submission requires."""

    channel = models.OneToOneField("integrations.Channel", on_delete=models.CASCADE, related_name="order_rules")
    # The go-live date (an order placed before it is never imported) is the channel's: Channel.go_live_at.
    ship_to_countries = models.CharField(
        max_length=300, blank=True, help_text="Comma-separated ISO country codes; empty imports every country."
    )
    required_tags = models.CharField(
        max_length=300, blank=True, help_text="Comma-separated; an order needs at least one of them. Empty: any."
    )
    require_customer = models.BooleanField(default=False, help_text="Hold orders that name no customer.")
    submit_retry_days = models.PositiveIntegerField(
        default=3, help_text="Failed submissions are retried with backoff this long, then wait for a person."
    )
    shipment_upload = models.CharField(
        max_length=10,
        choices=ShipmentUploadMode.choices,
        default=ShipmentUploadMode.EACH,
        help_text="When shipments go to the channel: each as the fulfillment system ships it, or all of an "
        "order's together once every line is shipped or cancelled.",
    )

    class Meta:
        verbose_name = "order rules"
        verbose_name_plural = "order rules"

    def __str__(self) -> str:
        return f"Order rules of {self.channel}"


class DownloadRequest(models.Model):
    """A channel's notification state: `requested_at` is set while a hook-triggered download is queued."""

    channel = models.OneToOneField("integrations.Channel", on_delete=models.CASCADE, related_name="download_request")
    requested_at = models.DateTimeField(null=True, blank=True)
    notifications = models.PositiveIntegerField(default=0)
    last_notified_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.channel}: {'pending' if self.requested_at else 'idle'}"


class HookNonce(models.Model):
    """A notification signature already accepted: the same signed request again, within the tolerance window
    that makes it fresh, is a replay. Rows older than the window are pruned as new ones arrive."""

    channel = models.ForeignKey("integrations.Channel", on_delete=models.CASCADE, related_name="+")
    signature = models.CharField(max_length=64)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "signature"], name="uniq_hook_nonce")]

    def __str__(self) -> str:
        return f"{self.channel}: {self.signature[:12]}…"
