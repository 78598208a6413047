"""The base every connector class stands on: settings and credentials schemas, the HTTP client, connection test.

What a connector can do is not here but in the capabilities its class implements (capabilities.py). Connectors
know HTTP and the API's field names; they import no model and take/return the records in `records.py`."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from integrations.connectors.records import Shipment
from integrations.http import BadResponse, HttpClient, RateLimit, RetryPolicy


@dataclass(frozen=True)
class SettingSpec:
    """One entry of a connector's settings schema; the admin renders a form field from it."""

    name: str
    type: type = str  # str, int, float, bool, list (comma-separated strings)
    default: Any = None
    help: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class CredentialSpec:
    name: str
    help: str = ""
    required: bool = True


class Connector:
    kind: ClassVar[str]
    role: ClassVar[str] = "sales"
    settings_schema: ClassVar[tuple[SettingSpec, ...]] = ()
    credentials_schema: ClassVar[tuple[CredentialSpec, ...]] = ()
    rate_limit: ClassVar[RateLimit | None] = None
    corrects_shipments: ClassVar[bool] = False  # its API can change a shipment once sent (shipment_correct)
    default_base_url: ClassVar[str] = ""

    def __init__(
        self,
        *,
        base_url: str,
        credentials: Mapping[str, Any],
        settings: Mapping[str, Any] | None = None,
        label: str = "",
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] | None = None,
        credentials_saver: Callable[[dict[str, Any]], None] | None = None,
    ):
        self.base_url = base_url or self.default_base_url
        self.credentials = dict(credentials)
        self.credentials_saver = credentials_saver
        self.settings = validate_settings(self.settings_schema, settings or {})
        self.label = label or self.kind
        self.http = self.make_client(retry=retry or RetryPolicy(), timeout=timeout or (5.0, 30.0))

    def make_client(self, *, retry: RetryPolicy, timeout: tuple[float, float]) -> HttpClient:
        return HttpClient(
            channel=self.label, base_url=self.base_url, retry=retry, timeout=timeout, rate_limit=self.rate_limit
        )

    def credentials_changed(self) -> None:
        """Keep credentials the connector obtained (a token for a spent one-time code) where they came from."""
        if self.credentials_saver is not None:
            self.credentials_saver(dict(self.credentials))

    def test_connection(self) -> str:
        """Call the cheapest authenticated endpoint; return a short description of what answered."""
        raise NotImplementedError

    def close(self) -> None:
        self.http.close()

    def shipment_correct(self, *, external_id: str, shipment: Shipment, held: Shipment) -> None:
        """Give a shipment the channel already holds (`held`, as `shipments_list` read it) the tracking number,
        carrier and service of `shipment`. Only where `corrects_shipments`."""
        raise NotImplementedError

    # Payload helpers: a missing or malformed field is a BadResponse that names it, never a KeyError.

    def field(self, obj: Any, name: str, where: str = "", *, kind: type | None = None) -> Any:
        if not isinstance(obj, Mapping):
            raise BadResponse(f"expected an object{_at(where)}, got {type(obj).__name__}", channel=self.label)
        if name not in obj or obj[name] is None:
            raise BadResponse(f"field '{name}' is missing{_at(where)}", channel=self.label)
        value = obj[name]
        if kind is not None and not isinstance(value, kind):
            raise BadResponse(f"field '{name}'{_at(where)} is not a {kind.__name__}", channel=self.label)
        return value

    def opt(self, obj: Mapping[str, Any], name: str, default: Any = "") -> Any:
        value = obj.get(name)
        return default if value is None else value

    def decimal(self, value: Any, name: str, where: str = "") -> Decimal:
        try:
            return Decimal(str(value))
        except (InvalidOperation, ValueError):
            raise BadResponse(f"field '{name}'{_at(where)} is not a number: {value!r}", channel=self.label) from None

    def integer(self, value: Any, name: str, where: str = "") -> int:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise BadResponse(f"field '{name}'{_at(where)} is not an integer: {value!r}", channel=self.label) from None

    def timestamp(self, value: Any, name: str, where: str = "") -> datetime | None:
        if value in (None, ""):
            return None
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise BadResponse(f"field '{name}'{_at(where)} is not a date: {value!r}", channel=self.label) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _at(where: str) -> str:
    return f" in {where}" if where else ""


class SettingsError(ValueError):
    pass


def validate_settings(schema: tuple[SettingSpec, ...], values: Mapping[str, Any]) -> dict[str, Any]:
    """Settings with defaults filled in; unknown names and wrong types are refused with the name."""
    known = {spec.name: spec for spec in schema}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise SettingsError(f"unknown setting(s): {', '.join(unknown)}")
    clean: dict[str, Any] = {}
    for spec in schema:
        value = values.get(spec.name, spec.default)
        if value in (None, "") and spec.required:
            raise SettingsError(f"setting '{spec.name}' is required")
        if value is not None:
            value = _coerce(spec, value)
        clean[spec.name] = value
    return clean


def _coerce(spec: SettingSpec, value: Any) -> Any:
    try:
        if spec.type is bool:
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        if spec.type is list:
            if isinstance(value, str):
                return [part.strip() for part in value.split(",") if part.strip()]
            return [str(v) for v in value]
        value = spec.type(value)
    except (TypeError, ValueError):
        raise SettingsError(f"setting '{spec.name}' must be a {spec.type.__name__}") from None
    if spec.choices and value not in spec.choices:
        raise SettingsError(f"setting '{spec.name}' must be one of {', '.join(spec.choices)}")
    return value
