"""The channel form: the channel's own fields, plus — once its kind is known — a settings section built from
the connector's settings_schema, write-only credential inputs from its credentials_schema, and an
enable checkbox and interval per flow it supports."""

from functools import cache
from typing import Any, ClassVar

from django import forms

from integrations.connectors import connector_class
from integrations.connectors.base import Connector, CredentialSpec, SettingsError, SettingSpec, validate_settings
from integrations.fields import UNDECRYPTABLE, is_undecryptable
from integrations.flows import default_interval, flow_label, needs_go_live, supported
from integrations.models import ALERT_WEBHOOK, Channel, go_live_missing_message

WEBHOOK_CLEAR = "alert_webhook_clear"
WEBHOOK_FIELDS = (ALERT_WEBHOOK, WEBHOOK_CLEAR)

MAX_INTERVAL = 7 * 24 * 60  # minutes


class ChannelForm(forms.ModelForm):
    address_moved = ""  # what moved the channel to a new address in this save ("the base URL"), set by clean()
    dropped_credentials: list[str] = []  # stored credentials this save forgets (not entered again after a move)
    settings_schema: ClassVar[tuple[SettingSpec, ...]] = ()
    credentials_schema: ClassVar[tuple[CredentialSpec, ...]] = ()
    flows: ClassVar[tuple[str, ...]] = ()

    base_url = forms.URLField(
        label="Base URL",
        max_length=300,
        required=False,
        assume_scheme="https",
        help_text="Blank: the API's own. Stored credentials are never sent to a new address: changing it means "
        "entering the credentials again in the same save (optional ones not entered again are dropped).",
    )

    # A secret like the credentials: write-only, encrypted among them, never rendered back (Channel.alert_webhook_url).
    alert_webhook_url = forms.URLField(
        label="Alert webhook URL",
        max_length=500,
        required=False,
        assume_scheme="https",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    alert_webhook_clear = forms.BooleanField(label="Remove the alert webhook URL", required=False)

    class Meta:
        model = Channel
        fields = ["name", "slug", "kind", "role", "base_url", "fulfillment", "enabled", "go_live_at", "contacts"]
        widgets = {"contacts": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        channel = self.instance
        for spec in self.settings_schema:
            self.initial.setdefault(setting_field(spec), _initial_setting(spec, channel.settings.get(spec.name)))
        for credential in self.credentials_schema:
            if credential_field(credential) not in self.fields:
                continue  # held back by the admin from someone without the credentials permission
            stored = _stored(channel, credential)
            self.fields[credential_field(credential)].help_text = " ".join(filter(None, [credential.help, stored]))
        if ALERT_WEBHOOK in self.fields:
            self.fields[ALERT_WEBHOOK].help_text = webhook_help(channel)
        for flow in self.flows:
            enabled, interval = flow_fields(flow)
            self.initial.setdefault(enabled, channel.flow_enabled(flow))
            self.initial.setdefault(interval, channel.flow_interval(flow, default_interval(flow, channel.role)))

    @classmethod
    def credential_field_names(cls) -> list[str]:
        return [credential_field(spec) for spec in cls.credentials_schema]

    @classmethod
    def secret_field_names(cls) -> list[str]:
        """The inputs whose values are secrets: never rendered back, never named in history."""
        return [*cls.credential_field_names(), *WEBHOOK_FIELDS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}  # ModelForm.clean returns cleaned_data, typed as optional
        self._clean_settings(cleaned)
        self._clean_go_live(cleaned)
        # Decided here, before the instance takes the new values: save() reads these.
        self.address_moved = moved = self._address_moved(cleaned)
        stored = {} if moved else self.instance.credentials
        self.dropped_credentials = [
            spec.name
            for spec in self.credentials_schema
            if moved and self.instance.credentials.get(spec.name) and not cleaned.get(credential_field(spec))
        ]
        retype = []
        for spec in self.credentials_schema:
            name = credential_field(spec)
            if name not in self.fields:
                continue  # held back by the admin from someone without the credentials permission
            if spec.required and not cleaned.get(name) and not stored.get(spec.name):
                again = moved and self.instance.credentials.get(spec.name)
                self.add_error(name, f"Enter it again: {moved} changed." if again else "This credential is required.")
                retype += [spec.name] if again else []
        if retype:
            where = "base_url" if moved == "the base URL" else None
            self.add_error(where, address_change_error(moved, retype))
        return cleaned

    def _clean_go_live(self, cleaned: dict[str, Any]) -> None:
        """A flow that starts from the go-live date is refused, with the reason on its checkbox, while the channel
        has no date (Channel.set_flow would refuse it too)."""
        if "go_live_at" in self.errors or cleaned.get("go_live_at"):
            return
        refused = [flow for flow in self.flows if cleaned.get(flow_fields(flow)[0]) and needs_go_live(flow)]
        for flow in refused:
            self.add_error(flow_fields(flow)[0], go_live_missing_message(flow))
        if refused:
            self.add_error("go_live_at", f"Required while {' and '.join(map(flow_label, refused))} is on.")

    def _address_moved(self, cleaned: dict[str, Any]) -> str:
        """What moved the channel to another address since it was saved (its base URL, its kind, a *base_url
        setting), or "" when nothing did or there is nothing stored to protect."""
        channel = self.instance
        if channel.pk is None or not any(channel.credentials.get(spec.name) for spec in self.credentials_schema):
            return ""
        if cleaned.get("kind", channel.kind) != channel.kind:
            return "the kind"
        # Without the credentials permission the base URL is not in the form: it cannot have moved.
        if "base_url" in self.fields and (cleaned.get("base_url") or "") != (channel.base_url or ""):
            return "the base URL"
        new_settings = getattr(self, "cleaned_settings", channel.settings)
        for name in address_settings(self.settings_schema):
            if (new_settings.get(name) or "") != (channel.settings.get(name) or ""):
                return f"the {name} setting"
        return ""

    def _clean_settings(self, cleaned: dict[str, Any]) -> None:
        if not self.settings_schema:
            return
        # A setting the admin held back (an address, without the credentials permission) keeps its stored value.
        values = {
            spec.name: cleaned.get(setting_field(spec))
            if setting_field(spec) in self.fields
            else self.instance.settings.get(spec.name)
            for spec in self.settings_schema
        }
        try:
            self.cleaned_settings = validate_settings(
                self.settings_schema, {name: value for name, value in values.items() if value not in (None, "")}
            )
        except SettingsError as exc:
            raise forms.ValidationError(str(exc)) from None

    def save(self, commit: bool = True) -> Channel:
        channel = super().save(commit=False)
        if self.settings_schema:
            channel.settings = self.cleaned_settings
        # Write-only: a blank input keeps the stored value (unless the address moved); nothing is rendered back.
        typed = {spec.name: self.cleaned_data.get(credential_field(spec)) for spec in self.credentials_schema}
        typed = {name: value for name, value in typed.items() if value}
        if self.address_moved:
            # Credentials outside the schema (the order notification secret) are never sent anywhere: kept.
            schema = {spec.name for spec in self.credentials_schema}
            kept = {name: value for name, value in channel.credentials.items() if name not in schema}
            channel.credentials = {**kept, **typed}
        elif typed:  # nothing typed leaves even undecryptable credentials as stored: the right key may come back
            channel.credentials = {**channel.credentials, **typed}
        if ALERT_WEBHOOK in self.fields:
            if self.cleaned_data.get(ALERT_WEBHOOK):
                channel.alert_webhook_url = self.cleaned_data[ALERT_WEBHOOK]
            elif self.cleaned_data.get(WEBHOOK_CLEAR):
                channel.alert_webhook_url = ""
        for flow in self.flows:
            enabled, interval = flow_fields(flow)
            channel.set_flow(flow, enabled=self.cleaned_data[enabled], interval=self.cleaned_data[interval])
        if commit:
            channel.save()
            self._save_m2m()  # type: ignore[attr-defined]  # set by ModelForm.save(commit=False) above
        return channel


def channel_form_class(kind: str) -> type[ChannelForm]:
    """The ChannelForm for a channel of this kind."""
    return connector_form_class(connector_class(kind))  # type: ignore[arg-type]  # classes hash by identity


@cache
def connector_form_class(connector: type[Connector]) -> type[ChannelForm]:
    """A ChannelForm with the connector's settings, credentials and flows (built once per connector)."""
    fields: dict[str, Any] = {}
    for spec in connector.settings_schema:
        fields[setting_field(spec)] = _setting_form_field(spec)
    for credential in connector.credentials_schema:
        fields[credential_field(credential)] = forms.CharField(
            label=credential.name,
            required=False,
            strip=False,
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        )
    flows = supported(connector, connector.role)
    for flow in flows:
        enabled, interval = flow_fields(flow)
        fields[enabled] = forms.BooleanField(label=flow_label(flow), required=False)
        fields[interval] = forms.IntegerField(
            label="every (minutes)",
            required=False,
            min_value=1,
            max_value=MAX_INTERVAL,
            help_text=f"Blank: the default, {default_interval(flow, connector.role)}.",
        )
    attrs = {
        **fields,
        "settings_schema": connector.settings_schema,
        "credentials_schema": connector.credentials_schema,
        "flows": flows,
        "__module__": __name__,
    }
    return type(f"{connector.__name__}ChannelForm", (ChannelForm,), attrs)


def address_settings(schema: tuple[SettingSpec, ...]) -> list[str]:
    """Settings that say where requests go (Extensiv's auth_base_url): by convention, named *base_url."""
    return [spec.name for spec in schema if spec.name.endswith("base_url")]


def address_change_error(moved: str, names: list[str]) -> str:
    return (
        f"{moved[0].upper()}{moved[1:]} changed, and stored credentials are never sent to a new address: "
        f"enter {', '.join(names)} again in this save."
    )


def setting_field(spec: SettingSpec) -> str:
    return f"setting_{spec.name}"


def credential_field(spec: CredentialSpec) -> str:
    return f"credential_{spec.name}"


def flow_fields(flow: str) -> tuple[str, str]:
    key = flow.replace(".", "_")
    return f"flow_{key}_enabled", f"flow_{key}_interval"


def _setting_form_field(spec: SettingSpec) -> forms.Field:
    options: dict[str, Any] = {
        "label": spec.name,
        "help_text": spec.help,
        "required": spec.required and spec.default in (None, ""),
    }
    if spec.choices:
        choices = [(c, c) for c in spec.choices]
        return forms.ChoiceField(choices=choices if options["required"] else [("", "—"), *choices], **options)
    if spec.type is bool:
        return forms.BooleanField(**{**options, "required": False})
    if spec.type is int:
        return forms.IntegerField(**options)
    if spec.type is float:
        return forms.FloatField(**options)
    if spec.type is list:
        options["help_text"] = " ".join(filter(None, [spec.help, "Comma-separated."]))
    return forms.CharField(**options)


def webhook_help(channel: Channel) -> str:
    where = 'The digest is also POSTed here as Slack-compatible JSON ({"text": …}). Write-only, like the credentials: '
    if is_undecryptable(channel.credentials):
        return where + f"the stored credentials {UNDECRYPTABLE}."
    if channel.alert_webhook_url:
        return where + "a URL is stored; leave blank to keep it, or tick “Remove” below."
    return where + "none is set."


def _stored(channel: Channel, spec: CredentialSpec) -> str:
    if is_undecryptable(channel.credentials):
        return f"The stored value {UNDECRYPTABLE}."
    return "A value is stored; leave blank to keep it." if channel.credentials.get(spec.name) else "Not set."


def _initial_setting(spec: SettingSpec, value: Any) -> Any:
    value = spec.default if value is None else value
    if spec.type is list and isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return value
