import json
import logging
from functools import reduce
from operator import or_
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from integrations.connectors.base import SettingsError
from integrations.display import FitsList, badge, cut, narrow, stacked, when
from integrations.fields import UNDECRYPTABLE, is_undecryptable
from integrations.flows import default_interval, flow_label, registered
from integrations.forms import (
    WEBHOOK_FIELDS,
    ChannelForm,
    address_settings,
    channel_form_class,
    flow_fields,
    setting_field,
)
from integrations.health import PING
from integrations.http import ChannelError
from integrations.issue_targets import issue_targets
from integrations.models import (
    ALERT_WEBHOOK,
    CREDENTIALS_PERMISSION,
    Channel,
    SyncCursor,
    SyncIssue,
    SyncRun,
    go_live_missing_message,
)
from integrations.queue_admin import ScheduleAdmin  # noqa: F401  (re-registers django-q2's screens)
from integrations.runner import failure_reason
from integrations.services import channel_test_connection, issues_resolve, issues_retry
from integrations.tasks import queue_flow

log = logging.getLogger("integrations.admin")
BASE_FIELDS = ["name", "slug", "kind", "role", "base_url", "fulfillment", "enabled"]
GO_LIVE_NOTE = (
    "Orders placed before the go-live date are never imported, and the first order and cancellation downloads "
    "start there. Set it before switching Order download on: without it that first download would read every "
    "order the channel has."
)
GO_LIVE_FIELDSET = ("Go-live", {"fields": ["go_live_at"], "description": GO_LIVE_NOTE})


class FlowFilter(admin.SimpleListFilter):
    """Flow choices from the registry: a DISTINCT over a table of millions of runs is not a filter."""

    title = "flow"
    parameter_name = "flow"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(name, flow_label(name)) for name in registered()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(flow=self.value()) if self.value() else queryset


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "role", "enabled", "credentials_state", "open_issues"]
    list_filter = ["kind", "role", "enabled"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    actions = ["test_connection", "run_enabled_flows"]
    change_form_template = "admin/integrations/channel/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Channel]:
        open_issues = Count("issues", filter=Q(issues__status=SyncIssue.Status.OPEN))
        return super().get_queryset(request).annotate(open_issue_count=open_issues)

    @admin.display(description="open issues", ordering="open_issue_count")
    def open_issues(self, channel: Channel) -> int:
        return channel.open_issue_count  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description="credentials")
    def credentials_state(self, channel: Channel) -> str:
        if is_undecryptable(channel.credentials):
            return UNDECRYPTABLE
        return "stored" if set(channel.credentials) - {ALERT_WEBHOOK} else "none"

    def get_readonly_fields(self, request: HttpRequest, obj: Channel | None = None) -> list[str]:
        # The settings, credentials and flows sections belong to the kind: it is chosen once, when adding.
        if may_change_credentials(request):
            return ["kind"] if obj else []
        # Without the credentials permission: the address credentials go to, the credentials and the alert
        # webhook (a secret too) are shown as text, and taken out of the form (get_form), so a forged POST
        # cannot set them either.
        if obj is None:
            return ["base_url"]
        return ["kind", "base_url", "credentials_held_back", "addresses_held_back", "alert_webhook_held_back"]

    def held_back_fields(self, request: HttpRequest, obj: Channel | None) -> list[str]:
        """The form's inputs someone without the credentials permission does not get."""
        if may_change_credentials(request):
            return []
        if obj is None:
            return ["base_url", *WEBHOOK_FIELDS]
        form = channel_form_class(obj.kind)
        addresses = [setting_field(spec) for spec in form.settings_schema if spec.name in _addresses(form)]
        return ["base_url", *form.secret_field_names(), *addresses]

    @admin.display(description="credentials")
    def credentials_held_back(self, channel: Channel) -> str:
        names = [spec.name for spec in channel_form_class(channel.kind).credentials_schema]
        state = (
            UNDECRYPTABLE
            if is_undecryptable(channel.credentials)
            else f"{sum(1 for name in names if channel.credentials.get(name))} of {len(names)} stored"
        )
        return f"{state}. Changing them, or the base URL they are sent to, needs the “Can change channel credentials” permission."

    @admin.display(description="addresses")
    def addresses_held_back(self, channel: Channel) -> str:
        form = channel_form_class(channel.kind)
        shown = ", ".join(f"{name}: {channel.settings.get(name) or '(default)'}" for name in _addresses(form))
        return f"{shown}. Where the credentials are sent: changing it needs the “Can change channel credentials” permission."

    @admin.display(description="alert webhook URL")
    def alert_webhook_held_back(self, channel: Channel) -> str:
        state = "a URL is stored" if channel.alert_webhook_url else "none is set"
        return f"{state} (a secret, like the credentials: setting it needs the “Can change channel credentials” permission)."

    def get_prepopulated_fields(self, request: HttpRequest, obj: Channel | None = None) -> dict[str, Any]:
        return {} if obj else self.prepopulated_fields

    def get_form(self, request: HttpRequest, obj: Channel | None = None, change: bool = False, **kwargs: Any):
        form = channel_form_class(obj.kind) if obj else ChannelForm
        held = self.held_back_fields(request, obj)
        if held:
            # Django takes read-only fields out of self.form only, not out of the kind's form nor its declared
            # inputs: do it here, so a forged POST cannot set credentials or move the address they are sent to.
            form = type(form.__name__, (form,), dict.fromkeys(held))
        kwargs["form"] = form
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Channel | None = None) -> list[tuple[str | None, dict]]:  # type: ignore[override]
        if obj is None:
            note = "Save and continue editing to set the kind's settings, credentials and flows."
            return [(None, {"fields": BASE_FIELDS, "description": note}), GO_LIVE_FIELDSET]
        form = channel_form_class(obj.kind)
        trusted = may_change_credentials(request)
        fieldsets: list[tuple[str | None, dict]] = [(None, {"fields": BASE_FIELDS}), GO_LIVE_FIELDSET]
        if form.settings_schema:
            addresses = _addresses(form)
            settings = [setting_field(spec) for spec in form.settings_schema if trusted or spec.name not in addresses]
            settings += [] if trusted or not addresses else ["addresses_held_back"]
            fieldsets.append(("Settings", {"fields": settings}))
        if form.credentials_schema and trusted:
            note = (
                "Write-only: stored values are never shown. Leave a field blank to keep its stored value. "
                "Stored values are never sent to a new address: when the base URL changes, enter them again."
            )
            if is_undecryptable(obj.credentials):
                note = (
                    "The stored credentials cannot be decrypted (no key in FIELD_ENCRYPTION_KEY opens them): "
                    "re-enter them. Until then every flow of this channel fails with that reason."
                )
            fieldsets.append(("Credentials", {"fields": form.credential_field_names(), "description": note}))
        elif form.credentials_schema:
            fieldsets.append(("Credentials", {"fields": ["credentials_held_back"]}))
        note = "Each enabled flow runs on a schedule at its interval; “Run now” above runs it once."
        fieldsets.append(("Flows", {"fields": [flow_fields(flow) for flow in form.flows], "description": note}))
        note = "A digest when a flow fails or goes stale or new issues open: at most one an hour (docs/operations.md)."
        webhook = list(WEBHOOK_FIELDS) if trusted else ["alert_webhook_held_back"]
        fieldsets.append(("Alerts", {"fields": ["contacts", *webhook], "description": note}))
        return fieldsets

    @method_decorator(sensitive_post_parameters())
    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Credentials are posted here: keep every POST value out of error reports.
        return super().changeform_view(request, *args, **kwargs)

    def save_model(self, request: HttpRequest, obj: Channel, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        dropped = getattr(form, "dropped_credentials", [])
        if dropped:
            moved = form.address_moved
            text = f"{moved[0].upper()}{moved[1:]} changed, so the stored {', '.join(dropped)} were dropped"
            self.message_user(request, f"{text}: credentials are never sent to a new address.", messages.WARNING)

    def construct_change_message(self, request: HttpRequest, form: Any, formsets: Any, add: bool = False) -> list:
        """The history entry names the fields that changed, except credentials: not their values, not their names."""
        message = super().construct_change_message(request, form, formsets, add)
        names: list[str] = getattr(form, "secret_field_names", list)()
        secret = {str(form.fields[name].label) for name in names if name in form.fields}
        for entry in message:
            for change in entry.values():
                if isinstance(change, dict) and "fields" in change:
                    change["fields"] = [label for label in change["fields"] if label not in secret]
        return message

    def render_change_form(self, request: HttpRequest, context: dict, *args: Any, obj: Channel | None = None, **kwargs):
        if obj is not None and obj.pk:
            context["sync_panel"] = sync_panel(obj, channel_form_class(obj.kind).flows)
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)  # type: ignore[misc]

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/test-connection/", view(self.test_connection_view), name="integrations_channel_test"),
            path("<int:pk>/run/<str:flow>/", view(self.run_view), name="integrations_channel_run"),
            *super().get_urls(),
        ]

    @method_decorator(require_POST)
    def test_connection_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        channel = self._channel_for_change(request, pk)
        self._test_one(request, channel)
        return HttpResponseRedirect(reverse("admin:integrations_channel_change", args=[pk]))

    @method_decorator(require_POST)
    def run_view(self, request: HttpRequest, pk: int, flow: str) -> HttpResponse:
        channel = self._channel_for_change(request, pk)
        if flow not in channel_form_class(channel.kind).flows:
            self.message_user(request, f"{channel} does not run {flow_label(flow)}.", messages.ERROR)
        elif channel.go_live_missing(flow):
            self.message_user(request, f"Not run: {go_live_missing_message(flow)}", messages.ERROR)
        else:
            queue_flow(channel=channel, flow=flow, trigger=SyncRun.Trigger.MANUAL)
            label = flow_label(flow)
            self.message_user(request, f"Queued {label} on {channel}; it appears under Sync runs when it runs.")
        return HttpResponseRedirect(reverse("admin:integrations_channel_change", args=[pk]))

    @admin.action(description="Test connection", permissions=["change"])
    def test_connection(self, request: HttpRequest, queryset: QuerySet[Channel]) -> None:
        for channel in queryset:
            self._test_one(request, channel)

    @admin.action(description="Run enabled flows now", permissions=["change"])
    def run_enabled_flows(self, request: HttpRequest, queryset: QuerySet[Channel]) -> None:
        queued, refused = 0, []
        for channel in queryset.filter(enabled=True):
            for flow in channel.enabled_flows():
                if channel.go_live_missing(flow):
                    refused.append(f"{flow_label(flow)} on {channel}")
                else:
                    queue_flow(channel=channel, flow=flow, trigger=SyncRun.Trigger.MANUAL)
                    queued += 1
        self.message_user(request, f"Queued {queued} run(s).")
        if refused:
            why = "they need a go-live date: set the channel's go-live date first"
            self.message_user(request, f"Not run: {', '.join(refused)} ({why}).", messages.ERROR)

    def _channel_for_change(self, request: HttpRequest, pk: int) -> Channel:
        channel = get_object_or_404(Channel, pk=pk)
        if not self.has_change_permission(request, channel):
            raise PermissionDenied
        return channel

    def _test_one(self, request: HttpRequest, channel: Channel) -> None:
        try:
            answer = channel_test_connection(channel=channel)
        except Exception as exc:
            # A ChannelError or SettingsError is the expected answer; anything else is a bug worth a traceback
            # in the log, but the person at the screen still gets one readable line instead of a 500.
            if not isinstance(exc, ChannelError | SettingsError):
                log.exception("testing the connection of %s crashed", channel.slug)
            self.message_user(request, f"{channel}: connection failed — {failure_reason(exc)}", messages.ERROR)
        else:
            self.message_user(request, f"{channel}: connected — {answer}", messages.SUCCESS)


def may_change_credentials(request: HttpRequest) -> bool:
    return request.user.has_perm(CREDENTIALS_PERMISSION)


def _addresses(form: type[ChannelForm]) -> list[str]:
    return address_settings(form.settings_schema)


def sync_panel(channel: Channel, flows: tuple[str, ...]) -> list[dict[str, Any]]:
    """Per flow: its schedule, its last run and its open issues (two queries whatever the number of flows)."""
    runs = last_runs(channel, flows)
    issues = dict(
        SyncIssue.objects.filter(channel=channel, status=SyncIssue.Status.OPEN)
        .values_list("flow")
        .annotate(n=Count("pk"))
        .order_by()
    )
    installed = set(registered())
    return [
        {
            "flow": flow,
            "label": flow_label(flow),
            "enabled": channel.flow_enabled(flow),
            "interval": channel.flow_interval(flow, default_interval(flow, channel.role)),
            "run": runs.get(flow),
            "badge": badge(runs[flow].status) if flow in runs else "",
            "open_issues": issues.get(flow, 0),
            "installed": flow in installed,
            "health_check": flow == PING,
        }
        for flow in flows
    ]


def last_runs(channel: Channel, flows: tuple[str, ...]) -> dict[str, SyncRun]:
    """The latest run of each flow in one query: one index-backed `ORDER BY … LIMIT 1` subquery per flow."""
    if not flows:
        return {}
    latest = (
        Q(pk=Subquery(SyncRun.objects.filter(channel=channel, flow=flow).order_by("-started_at").values("pk")[:1]))
        for flow in flows
    )
    return {run.flow: run for run in SyncRun.objects.filter(reduce(or_, latest))}


@admin.register(SyncRun)
class SyncRunAdmin(FitsList, admin.ModelAdmin):
    # Fits 1400 px: the five counts read as one phrase, trigger and dry run are filters and the run's page.
    list_display = ["started", "channel_name", "flow_name", "outcome", "counts"]
    list_filter = ["status", "channel", FlowFilter, "trigger", "dry_run"]
    list_select_related = ["channel"]
    show_full_result_count = False
    readonly_fields = [f.name for f in SyncRun._meta.fields] + ["took", "issues"]

    @admin.display(description="issues opened or seen again")
    def issues(self, run: SyncRun) -> str:
        return run_issues_html(run)

    @admin.display(description="duration")
    def took(self, run: SyncRun) -> str:
        return "running" if run.duration is None else f"{run.duration:.1f}s"

    @admin.display(description="flow", ordering="flow")
    def flow_name(self, run: SyncRun) -> str:
        return flow_label(run.flow) + (" (dry run)" if run.dry_run else "")

    @admin.display(description="started", ordering="started_at")
    def started(self, run: SyncRun) -> str:
        return stacked(when(run.started_at), self.took(run))

    @admin.display(description="status", ordering="status")
    def outcome(self, run: SyncRun) -> str:
        return stacked(badge(run.status), cut(run.error, 90))

    @admin.display(description="records")
    def counts(self, run: SyncRun) -> str:
        parts = [(run.created, "new"), (run.updated, "updated"), (run.skipped, "unchanged"), (run.failed, "failed")]
        done = ", ".join(f"{n} {word}" for n, word in parts if n)
        return f"{run.seen} seen" + (f": {done}" if done else "")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SyncRun | None = None) -> bool:
        return False


@admin.register(SyncIssue)
class SyncIssueAdmin(FitsList, admin.ModelAdmin):
    list_display = ["record", "channel_name", "flow_name", "status_badge", "message_cut", "updated"]
    list_display_links = ["record"]
    list_filter = ["status", "channel", FlowFilter]
    list_select_related = ["channel"]
    search_fields = ["record_key"]
    show_full_result_count = False
    actions = ["retry", "resolve"]
    change_form_template = "admin/integrations/syncissue/change_form.html"
    fields = [
        "channel",
        "flow",
        "record_key",
        "about",
        "status",
        "message",
        "pretty_payload",
        "occurrences",
        "last_run",
        "created_at",
        "updated_at",
        "resolved_at",
        "resolution_note",
    ]
    readonly_fields = fields  # type: ignore[assignment]

    @admin.display(description="record", ordering="record_key")
    def record(self, issue: SyncIssue) -> str:
        return stacked(narrow(issue.record_key, key=True), self.about(issue))  # the record, and a link to it

    @admin.display(description="flow", ordering="flow")
    def flow_name(self, issue: SyncIssue) -> str:
        return flow_label(issue.flow)

    @admin.display(description="status", ordering="status")
    def status_badge(self, issue: SyncIssue) -> str:
        return badge(issue.status, issue.get_status_display())

    @admin.display(description="message")
    def message_cut(self, issue: SyncIssue) -> str:
        times = f"{issue.occurrences} times" if issue.occurrences > 1 else ""
        return stacked(cut(issue.message, 90), times)

    @admin.display(description="last seen", ordering="updated_at")
    def updated(self, issue: SyncIssue) -> str:
        return when(issue.updated_at)

    @admin.display(description="about")
    def about(self, issue: SyncIssue) -> str:
        # Lists get `target` set for the whole page at once (get_changelist_instance); a change page resolves one.
        target = issue.target if hasattr(issue, "target") else issue_targets([issue]).get(issue.pk)
        if issue.channel_wide:
            return "the channel as a whole"
        return format_html('<a href="{}">{}</a>', target.url, target.label) if target else "-"

    def get_changelist_instance(self, request: HttpRequest):
        changelist = super().get_changelist_instance(request)
        page = list(changelist.result_list)  # evaluated once here; the template iterates the same rows
        targets = issue_targets(page)
        for issue in page:
            issue.target = targets.get(issue.pk)
        return changelist

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/retry/", view(self.retry_view), name="integrations_syncissue_retry"),
            path("<int:pk>/resolve/", view(self.resolve_view), name="integrations_syncissue_resolve"),
            *super().get_urls(),
        ]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        can_act = super().has_change_permission(request)
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "can_act": can_act})

    @method_decorator(require_POST)
    def retry_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        issues = self._issues_for_change(request, pk)
        issues_retry(issues=issues)
        self.message_user(request, "Queued a run of its flow; the issue resolves when its record goes through.")
        return HttpResponseRedirect(reverse("admin:integrations_syncissue_change", args=[pk]))

    @method_decorator(require_POST)
    def resolve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        issues = self._issues_for_change(request, pk)
        if issues_resolve(issues=issues, note=request.POST.get("note", "")[:2000]):
            self.message_user(request, "Resolved.", messages.SUCCESS)
        else:
            self.message_user(request, "This issue was already resolved.", messages.WARNING)
        return HttpResponseRedirect(reverse("admin:integrations_syncissue_change", args=[pk]))

    def _issues_for_change(self, request: HttpRequest, pk: int) -> QuerySet[SyncIssue]:
        if not super().has_change_permission(request):
            raise PermissionDenied
        get_object_or_404(SyncIssue, pk=pk)
        return SyncIssue.objects.filter(pk=pk)

    @admin.display(description="payload")
    def pretty_payload(self, issue: SyncIssue) -> str:
        return format_html("<pre>{}</pre>", json.dumps(issue.payload, indent=2, sort_keys=True, ensure_ascii=False))

    def has_change_permission(self, request: HttpRequest, obj: SyncIssue | None = None) -> bool:
        # The list's actions need "change"; an issue itself is only read (resolve it with the action).
        return obj is None and super().has_change_permission(request)

    @admin.action(description="Retry: run the flow again for these issues' channels", permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet[SyncIssue]) -> None:
        queued = issues_retry(issues=queryset)
        self.message_user(request, f"Queued {queued} run(s); issues resolve when their record goes through.")

    @admin.action(description="Mark resolved", permissions=["change"])
    def resolve(self, request: HttpRequest, queryset: QuerySet[SyncIssue]) -> None:
        self.message_user(request, f"Resolved {issues_resolve(issues=queryset)} issue(s).")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # issues are opened by flows only


def run_issues_html(run: SyncRun, shown: int = 50) -> str:
    """The issues a run opened or saw again (two queries): opened ones were created while it ran, and only one
    run of a flow runs at a time, so the window is its own."""
    issues = SyncIssue.objects.filter(channel_id=run.channel_id, flow=run.flow)
    window = Q(created_at__gte=run.started_at, created_at__lte=run.finished_at) if run.finished_at else Q(pk=None)
    rows = list(issues.filter(window | Q(last_run=run)).order_by("-created_at")[: shown + 1])
    if not rows:
        return "None."
    items = format_html_join(
        "",
        '<li><a href="{}">{}</a> — {} ({})</li>',
        (
            (reverse("admin:integrations_syncissue_change", args=[i.pk]), i.record_key, i.message[:200], i.status)
            for i in rows[:shown]
        ),
    )
    more = format_html(
        '<p><a href="{}?channel__id__exact={}&flow={}">All issues of this flow</a></p>',
        reverse("admin:integrations_syncissue_changelist"),
        run.channel_id,
        run.flow,
    )
    return format_html("<ul>{}</ul>{}", items, more if len(rows) > shown else "")


@admin.register(SyncCursor)
class SyncCursorAdmin(admin.ModelAdmin):
    list_display = ["channel", "flow_name", "position", "locked_until", "updated_at"]
    list_filter = ["channel", FlowFilter]
    list_select_related = ["channel"]
    readonly_fields = ["channel", "flow", "position", "locked_until", "updated_at"]

    @admin.display(description="flow", ordering="flow")
    def flow_name(self, cursor: SyncCursor) -> str:
        return flow_label(cursor.flow)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SyncCursor | None = None) -> bool:
        return False
