"""Connector registry: `connector_for(channel)` builds the right connector from a channel row."""

from typing import Any

from integrations.connectors.base import Connector

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
    cls = connector_class(channel.kind)
    return cls(
        base_url=channel.base_url,
        credentials=channel.credentials,
        settings=channel.settings,
        label=channel.slug,
        **kwargs,
    )


def _load_builtin() -> None:
    from integrations.connectors import channeladvisor, extensiv, nuorder, oms  # noqa: F401
