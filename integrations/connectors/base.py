"""The base every connector class stands on: settings and credentials schemas, the HTTP client, connection test.

What a connector can do is not here but in the capabilities its class implements (capabilities.py). Connectors
know HTTP and the API's field names; they import no model and take/return the records in `records.py`."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from integrations.connectors.reader import PayloadReader
from integrations.connectors.records import ShipmentRecord
from integrations.http import HttpClient, RateLimit, RetryPolicy


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
    names_ship_from: ClassVar[bool] = False  # its shipments say which channel warehouse they left from
    confirms_whole_order: ClassVar[bool] = False  # its ship call ships the whole order: once, with every parcel
    sku_case_sensitive: ClassVar[bool] = False  # the channel tells `abc-1` from `ABC-1`: auto-mapping matches exactly
    # warehouses_download lists every warehouse the channel has; False where it lists only some (NuORDER: those its
    # settings name), so a warehouse missing from it stays active, and others are added as orders and stock name them.
    warehouses_listed_in_full: ClassVar[bool] = True
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
        self.reader = PayloadReader(self.label)  # what parse.py functions get instead of the connector
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

    def shipment_correct(self, *, external_id: str, shipment: ShipmentRecord, held: ShipmentRecord) -> None:
        """Give a shipment the channel already holds (`held`, as `shipments_list` read it) the tracking number,
        carrier and service of `shipment`. Only where `corrects_shipments`."""
        raise NotImplementedError


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
