"""Connector registry: `connector_for(channel)` builds the right connector from a channel row.

Layout (docs/connectors.md): capabilities.py is the contract flows rely on, base.py the Connector every class
stands on, reader.py the payload checks parsers use, records.py what goes in and out; then one package per
external system, each with connector.py (the class and the capabilities it claims), parse.py (payload <-> record)
and, where the API needs them, auth.py/client.py."""

from typing import Any

from integrations.connectors.base import Connector, SettingsError
from integrations.fields import is_undecryptable
from integrations.http import RetryPolicy
from integrations.redaction import secrets_remember

_CONNECTORS: dict[str, type[Connector]] = {}


def register_connector(cls: type[Connector]) -> type[Connector]:
    _CONNECTORS[cls.kind] = cls
    return cls


def connector_class(kind: str) -> type[Connector]:
    _load_builtin()
    try:
        return _CONNECTORS[kind]
    except KeyError:
        raise LookupError(f"No connector for kind {kind!r}.") from None


def connector_for(channel: Any, **kwargs: Any) -> Connector:
    """A connector for a Channel (anything with kind, base_url, credentials, settings, slug)."""
    from django.conf import settings

    cls = connector_class(channel.kind)
    if is_undecryptable(channel.credentials):
        raise SettingsError(
            f"{channel.slug}: the stored credentials cannot be decrypted: re-enter them on the channel page "
            "(FIELD_ENCRYPTION_KEY no longer holds the key they were saved with)."
        )
    secrets_remember(channel.credentials)  # even a channel never saved: its secrets stay out of logs and errors
    kwargs.setdefault("retry", RetryPolicy(attempts=settings.HTTP_RETRY_ATTEMPTS, backoff=settings.HTTP_RETRY_BACKOFF))
    kwargs.setdefault("timeout", (settings.HTTP_CONNECT_TIMEOUT, settings.HTTP_READ_TIMEOUT))
    if getattr(channel, "pk", None) is not None:
        kwargs.setdefault("credentials_saver", lambda credentials: _credentials_save(channel, credentials))
    return cls(
        base_url=channel.base_url,
        credentials=channel.credentials,
        settings=channel.settings,
        label=channel.slug,
        **kwargs,
    )


def _credentials_save(channel: Any, credentials: dict[str, Any]) -> None:
    """Store credentials a connector obtained on the channel at once (the one-time code they replace is spent)."""
    channel.credentials = credentials
    channel.save(update_fields=["credentials", "updated_at"])


def _load_builtin() -> None:
    from integrations.connectors import channeladvisor, extensiv, nuorder, oms  # noqa: F401
