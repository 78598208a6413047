"""Credentials are stored encrypted (Fernet, key from settings.FIELD_ENCRYPTION_KEY)."""

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from integrations.redaction import secrets_remember


def _fernet() -> Fernet:
    try:
        return Fernet(settings.FIELD_ENCRYPTION_KEY.encode())
    except ValueError as exc:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not a valid Fernet key.") from exc


def encrypt_json(value: dict[str, Any]) -> str:
    # Every credential this process stores or reads is redacted by value from its logs and error texts.
    secrets_remember(value)
    return _fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict[str, Any]:
    try:
        value = json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise ImproperlyConfigured("Channel credentials cannot be decrypted with FIELD_ENCRYPTION_KEY.") from exc
    secrets_remember(value)
    return value


class EncryptedJSONField(models.TextField):
    """A dict in Python, ciphertext in the database. Never rendered back in forms (see ChannelAdmin)."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> dict[str, Any]:
        return decrypt_json(value) if value else {}

    def to_python(self, value: Any) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        if not value:
            return {}
        return json.loads(value) if isinstance(value, str) and value.startswith("{") else decrypt_json(value)

    def get_prep_value(self, value: Any) -> str:
        return encrypt_json(value or {})

    def value_to_string(self, obj: models.Model) -> str:
        # Fixtures and serializers get ciphertext, never the clear credentials.
        return self.get_prep_value(self.value_from_object(obj))
