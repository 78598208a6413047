"""Connector registry: `connector_for(channel)` builds the right connector from a channel row."""

from typing import Any

from integrations.connectors.base import Connector
from integrations.http import RetryPolicy

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
    kwargs.setdefault("retry", RetryPolicy(attempts=settings.HTTP_RETRY_ATTEMPTS, backoff=settings.HTTP_RETRY_BACKOFF))
    kwargs.setdefault("timeout", (settings.HTTP_CONNECT_TIMEOUT, settings.HTTP_READ_TIMEOUT))
    return cls(
        base_url=channel.base_url,
        credentials=channel.credentials,
        settings=channel.settings,
        label=channel.slug,
        **kwargs,
    )


def _load_builtin() -> None:
    from integrations.connectors import channeladvisor, extensiv, nuorder, oms  # noqa: F401
