"""Strict readers for the settings that decide whether a deployment is safe: a value the settings cannot
read for certain is refused at start-up with one clear line, never guessed (`DEBUG=flase` is not "off")."""

import os
from collections.abc import Mapping

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})
# The hosts a laptop serves on: the embedded secret is public, so it is refused for any other host.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class ConfigurationRefused(ImproperlyConfigured):
    """The environment is unsafe or unreadable; manage.py prints the message alone and exits 1."""


def strict_bool(name: str, *, default: bool, environ: Mapping[str, str] = os.environ) -> bool:
    """A boolean variable; unset or blank is `default`, anything but a known spelling is refused."""
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in TRUE:
        return True
    if raw in FALSE:
        return False
    spellings = "/".join(sorted(TRUE)) + " or " + "/".join(sorted(FALSE))
    raise ConfigurationRefused(f"{name}={environ[name]!r} is not a boolean: use {spellings}.")


def debug_flag(environ: Mapping[str, str] = os.environ) -> bool:
    """DEBUG, also read as DJANGO_DEBUG (a common spelling elsewhere); off unless one says on, refused if they
    disagree."""
    values = {name: strict_bool(name, default=False, environ=environ) for name in ("DEBUG", "DJANGO_DEBUG")}
    given = {name: value for name, value in values.items() if environ.get(name, "").strip()}
    if len(set(given.values())) > 1:
        raise ConfigurationRefused("DEBUG and DJANGO_DEBUG disagree: set one of them.")
    return any(given.values())


def secret_key(raw: str | None, *, debug: bool, embedded: str, hosts: list[str]) -> str:
    """SECRET_KEY: required unless DEBUG; the embedded (public) one only in DEBUG and only on loopback hosts."""
    if raw is not None and not raw.strip():
        raise ConfigurationRefused("SECRET_KEY is set but empty: give it a long random value.")
    if raw is None and not debug:
        raise ConfigurationRefused(
            "SECRET_KEY is not set and DEBUG is off: set SECRET_KEY (and FIELD_ENCRYPTION_KEY), "
            "or DEBUG=true on a laptop. See docs/security.md."
        )
    key = raw if raw is not None else embedded
    if key == embedded and not (debug and set(hosts) <= LOOPBACK_HOSTS):
        raise ConfigurationRefused(
            "The embedded SECRET_KEY is public: it is only for DEBUG=true on 127.0.0.1/localhost. Set SECRET_KEY."
        )
    return key


def encryption_keys(raw: str, *, debug: bool, fallback: str) -> list[str]:
    """FIELD_ENCRYPTION_KEY: Fernet keys, comma-separated, newest first. Required unless DEBUG, where `fallback`
    (derived from the embedded secret) stands in. A key that is not a Fernet key is refused, never echoed."""
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    if not keys:
        if not debug:
            raise ConfigurationRefused(
                "FIELD_ENCRYPTION_KEY is not set and DEBUG is off: channel credentials need a Fernet key. "
                'Generate one: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
            )
        return [fallback]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ConfigurationRefused(
                f"FIELD_ENCRYPTION_KEY: key {position} of {len(keys)} is not a Fernet key "
                "(32 url-safe base64-encoded bytes, 44 characters)."
            ) from None
    return keys


def proxy_ssl_header(raw: str) -> tuple[str, str] | None:
    """SECURE_PROXY_SSL_HEADER as `HTTP_X_FORWARDED_PROTO,https`: the header the proxy sets and its HTTPS value."""
    if not raw.strip():
        return None
    header, _, value = (part.strip() for part in raw.partition(","))
    if not header.startswith("HTTP_") or not value:
        raise ConfigurationRefused(
            f"SECURE_PROXY_SSL_HEADER={raw!r}: give the header as Django names it and its value, "
            "e.g. HTTP_X_FORWARDED_PROTO,https."
        )
    return header, value
