from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.db.models import Q

from integrations.fields import EncryptedJSONField
from integrations.flows import flow_label, needs_go_live


class ChannelKind(models.TextChoices):
    CHANNELADVISOR = "channeladvisor", "ChannelAdvisor"
    NUORDER = "nuorder", "NuORDER"
    EXTENSIV = "extensiv", "Extensiv Order Manager"
    OMS = "oms", "Fulfillment system (OMS REST)"


# The health check (integrations/health.py) runs on every channel unless a person turns it off.
HEALTH_CHECK_FLOW = "integrations.ping"
ON_BY_DEFAULT = frozenset({HEALTH_CHECK_FLOW})


def split_addresses(text: str) -> list[str]:
    return text.replace(",", "\n").split()


def validate_contacts(text: str) -> None:
    bad = []
    for address in split_addresses(text):
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
    if bad:
        raise ValidationError(f"Not an e-mail address: {', '.join(bad)}")


class ChannelRole(models.TextChoices):
    SALES = "sales", "Sales channel"
    FULFILLMENT = "fulfillment", "Fulfillment system"


# Who may set a channel's credentials and the base URL they are sent to (Channel.Meta.permissions).
CREDENTIALS_PERMISSION = "integrations.change_channel_credentials"
# A Slack-style webhook URL is a secret (whoever has it can post to the room): kept among the encrypted
# credentials, outside any connector's schema, so it is never sent to the channel's API.
ALERT_WEBHOOK = "alert_webhook_url"


class GoLiveMissing(ValueError):
    """A flow that starts from the go-live date was switched on (or run by hand) on a channel without one."""

    def __init__(self, flow: str):
        self.flow = flow
        super().__init__(go_live_missing_message(flow))


def go_live_missing_message(flow: str) -> str:
    return (
        f"{flow_label(flow)} needs a go-live date: set the channel's go-live date first. Without one its first "
        "run would read every order the channel has ever had."
    )


class Channel(models.Model):
    """An account on an external system: a sales channel or the fulfillment system."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True)
    kind = models.CharField(max_length=20, choices=ChannelKind.choices)
    role = models.CharField(max_length=20, choices=ChannelRole.choices, default=ChannelRole.SALES)
    base_url = models.URLField(max_length=300, blank=True)
    credentials = EncryptedJSONField(blank=True, default=dict, editable=False)
    settings = models.JSONField(blank=True, default=dict)
    enabled = models.BooleanField(default=True)
    go_live_at = models.DateTimeField(
        "go-live date",
        null=True,
        blank=True,
        help_text="An order placed before this is never imported, and the first order and cancellation downloads "
        "start here. Required before Order download can be switched on.",
    )
    # {"orders.download": {"enabled": true, "interval": 10}, ...}: interval in minutes.
    flow_settings = models.JSONField(blank=True, default=dict)
    fulfillment = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sales_channels",
        limit_choices_to={"role": ChannelRole.FULFILLMENT},
        help_text="The fulfillment system this channel's orders go to.",
    )
    contacts = models.TextField(
        blank=True,
        validators=[validate_contacts],
        help_text="E-mail addresses that get this channel's alert digest, one per line or comma-separated.",
    )
    # When the last digest went out, and which flows it reported red or stale (integrations/alerts.py).
    alerted_at = models.DateTimeField(null=True, blank=True, editable=False)
    alert_state = models.JSONField(blank=True, default=dict, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        # Credentials and the base URL they are sent to: held back from someone who may change the rest.
        permissions = [("change_channel_credentials", "Can change channel credentials and base URL")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ChannelKind.values), name="channel_kind_valid"),
            models.CheckConstraint(condition=Q(role__in=ChannelRole.values), name="channel_role_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    def flow_enabled(self, flow: str) -> bool:
        return bool(self.flow_settings.get(flow, {}).get("enabled", flow in ON_BY_DEFAULT))

    def enabled_flows(self) -> list[str]:
        """The flows switched on, sorted: those in flow_settings, plus the ones on by default unless turned off."""
        return sorted(flow for flow in set(self.flow_settings) | ON_BY_DEFAULT if self.flow_enabled(flow))

    @property
    def alert_webhook_url(self) -> str:
        """Where the alert digest is POSTed as Slack-compatible JSON ("" for nowhere), stored encrypted."""
        return str(self.credentials.get(ALERT_WEBHOOK) or "")

    @alert_webhook_url.setter
    def alert_webhook_url(self, url: str) -> None:
        others = {name: value for name, value in self.credentials.items() if name != ALERT_WEBHOOK}
        self.credentials = {**others, ALERT_WEBHOOK: url} if url else others

    def contact_emails(self) -> list[str]:
        return split_addresses(self.contacts)

    def flow_interval(self, flow: str, default: int) -> int:
        return int(self.flow_settings.get(flow, {}).get("interval") or default)

    def go_live_missing(self, flow: str) -> bool:
        """Whether this flow starts from the go-live date and the channel has none."""
        return self.go_live_at is None and needs_go_live(flow)

    def set_flow(self, flow: str, *, enabled: bool, interval: int | None = None) -> None:
        """Switch a flow on or off (and set its interval); GoLiveMissing when it needs a go-live date and the
        channel has none."""
        if enabled and self.go_live_missing(flow):
            raise GoLiveMissing(flow)
        entry: dict[str, Any] = dict(self.flow_settings.get(flow, {}))
        entry["enabled"] = enabled
        if interval is not None:
            entry["interval"] = interval
        self.flow_settings = {**self.flow_settings, flow: entry}


class SyncCursor(models.Model):
    """A flow's position on a channel, and the lock/lease that keeps one run of it at a time."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="cursors")
    flow = models.CharField(max_length=60)
    position = models.CharField(max_length=200, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    locked_by = models.CharField(max_length=200, blank=True)  # the SQLite lease's holder: host:pid:start time
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "flow"], name="uniq_cursor_channel_flow")]

    def __str__(self) -> str:
        return f"{flow_label(self.flow)} on {self.channel}"


class SyncRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        OK = "ok"
        PARTIAL = "partial"
        FAILED = "failed"
        SKIPPED = "skipped"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule"
        MANUAL = "manual"
        HOOK = "hook"
        COMMAND = "command"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="runs")
    flow = models.CharField(max_length=60)
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.SCHEDULE)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    dry_run = models.BooleanField(default=False)
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seen = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0, help_text="Records whose outcome the run could not learn.")
    error = models.TextField(blank=True)
    note = models.TextField(blank=True, help_text="What else happened, beyond the counts.")

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["channel", "flow", "-started_at"], name="syncrun_channel_flow_idx"),
            models.Index(fields=["status", "-started_at"], name="syncrun_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{flow_label(self.flow)} on {self.channel}: {self.status}"

    @property
    def duration(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class SyncIssue(models.Model):
    """One record that a flow could not process: the error queue an operator works through."""

    class Status(models.TextChoices):
        OPEN = "open"
        RESOLVED = "resolved"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="issues")
    flow = models.CharField(max_length=60)
    record_key = models.CharField(max_length=200)
    message = models.TextField()
    payload = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    occurrences = models.PositiveIntegerField(default=1)
    last_run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)

    class Meta:
        ordering = ["status", "-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "flow", "record_key"],
                condition=Q(status="open"),
                name="uniq_open_issue_per_record",
            )
        ]
        indexes = [models.Index(fields=["status", "channel", "flow"], name="syncissue_queue_idx")]

    def __str__(self) -> str:
        return f"{self.record_key}: {flow_label(self.flow)} on {self.channel}"

    @property
    def channel_wide(self) -> bool:
        return self.record_key == CHANNEL_ISSUE_KEY


# The record key of the one issue a flow opens when it fails on the channel as a whole (refused credentials,
# 5xx after retries, connection refused); the open-issue constraint keeps it one per channel and flow.
CHANNEL_ISSUE_KEY = "channel"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to be checked"
    CHECKING = "checking", "Checking"
    READY = "ready", "Checked: waiting for your confirmation"
    REJECTED = "rejected", "Refused: nothing was imported"
    CONFIRMED = "confirmed", "Confirmed: waiting to be written"
    WRITING = "writing", "Importing"
    DONE = "done", "Imported"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed: nothing was imported"


class ImportJob(models.Model):
    """A spreadsheet uploaded in the admin, from its preview to its import (integrations/import_jobs.py): what
    every kind of import job records. A concrete job adds its owner (its own related name), its stored `upload`
    (its own folder) and whatever its preview counts besides."""

    RUNNING = (ImportStatus.QUEUED, ImportStatus.CHECKING, ImportStatus.CONFIRMED, ImportStatus.WRITING)

    status = models.CharField(max_length=20, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    file_name = models.CharField(max_length=255, help_text="The uploaded file's own name, for display only.")
    file_format = models.CharField(max_length=10)
    size = models.PositiveBigIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0, help_text="An estimate, for the progress bar.")
    rows_done = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    header = models.JSONField(default=list, blank=True)
    errors = models.JSONField(default=list, blank=True, help_text="The first bad rows: [row, message, values].")
    preview = models.JSONField(default=list, blank=True, help_text="The first changes, as the preview shows them.")
    message = models.TextField(blank=True, help_text="Why a file was refused or a job failed.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    upload: Any  # a FileField of the concrete job
    owner: Any  # a ForeignKey of the concrete job, to the user who uploaded the file
    owner_id: int

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display().lower()})"

    @property
    def running(self) -> bool:
        return self.status in self.RUNNING
