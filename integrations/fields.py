"""Values stored encrypted: Fernet tokens in a text column, under the keys of settings.FIELD_ENCRYPTION_KEYS.

The first key encrypts; every key decrypts (MultiFernet), so a new key is put first and
`manage.py rotate_encryption_keys` re-encrypts what the older ones wrote. A stored value that no configured key
decrypts loads as an *undecryptable* stand-in instead of raising: every page that lists or shows its row still
renders, the connector refuses to use it with a clear reason, and saving the row for another reason writes the
same ciphertext back, so putting the right key back later recovers it.
"""

import contextlib
import json
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from integrations.redaction import secrets_remember

UNDECRYPTABLE = "cannot be decrypted: re-enter it"
# Every Fernet token starts so: the base64 of its version byte 0x80 and the first bytes of its timestamp.
FERNET_PREFIX = "gAAAAA"


@lru_cache(maxsize=8)
def _keyring(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:  # settings refuse a bad key at start-up; this is an override in code
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key.") from exc


def keyring() -> MultiFernet:
    """Encrypts with the newest key, decrypts with any configured key."""
    return _keyring(tuple(settings.FIELD_ENCRYPTION_KEYS))


def newest_key() -> Fernet:
    return Fernet(settings.FIELD_ENCRYPTION_KEYS[0].encode())


class Undecryptable(Mapping):
    """A stored credential set no configured key decrypts: empty to every reader, its ciphertext kept in `token`."""

    def __init__(self, token: str):
        self.token = token

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Undecryptable) and other.token == self.token

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "<credentials that cannot be decrypted>"


class UndecryptableText(str):
    """A stored text no configured key decrypts: "" to every reader, its ciphertext kept in `token`."""

    token: str

    def __new__(cls, token: str) -> "UndecryptableText":
        text = super().__new__(cls, "")
        text.token = token
        return text


def is_undecryptable(value: Any) -> bool:
    return isinstance(value, Undecryptable | UndecryptableText)


def _remember(value: Any) -> None:
    """Every secret this process stores or reads is redacted by value from its logs and error texts."""
    if isinstance(value, Mapping):
        secrets_remember(value)
    elif isinstance(value, str) and value:
        secrets_remember([value])


class EncryptedField(models.TextField):
    """A value in Python, a Fernet token in the database. `rotate_encryption_keys` finds every field of this
    class in the model registry; subclasses say how a value becomes bytes and back."""

    encrypted = True
    undecryptable: type = UndecryptableText

    def encode_value(self, value: Any) -> bytes:
        return str(value).encode()

    def decode_value(self, data: bytes) -> Any:
        return data.decode()

    def empty_value(self) -> Any:
        return ""

    def decrypt(self, token: str) -> Any:
        try:
            value = self.decode_value(keyring().decrypt(token.encode()))
        except InvalidToken:
            return self.undecryptable(token)
        _remember(value)
        return value

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        return self.decrypt(value) if value else self.empty_value()

    def get_prep_value(self, value: Any) -> str:
        if is_undecryptable(value):
            return value.token  # written back as it was: a key put back later still reads it
        _remember(value)
        return keyring().encrypt(self.encode_value(value if value else self.empty_value())).decode()

    def value_to_string(self, obj: models.Model) -> str:
        # Fixtures and serializers get ciphertext, never the clear value.
        return self.get_prep_value(self.value_from_object(obj))


class EncryptedTextField(EncryptedField):
    """A secret string (e.g. a shared signing secret), encrypted at rest."""

    def to_python(self, value: Any) -> str | None:
        # A fixture holds the token; a form or full_clean() holds the secret itself, which is kept as typed even
        # if it happens to look like a token.
        if value is None or is_undecryptable(value):
            return value
        if isinstance(value, str) and value.startswith(FERNET_PREFIX):
            with contextlib.suppress(InvalidToken):
                return self.decode_value(keyring().decrypt(value.encode()))
        return str(value)


class EncryptedJSONField(EncryptedField):
    """A dict in Python, ciphertext in the database. Never rendered back in forms (see ChannelAdmin)."""

    undecryptable = Undecryptable

    def encode_value(self, value: Any) -> bytes:
        return json.dumps(dict(value), sort_keys=True).encode()

    def decode_value(self, data: bytes) -> dict[str, Any]:
        return json.loads(data)

    def empty_value(self) -> dict[str, Any]:
        return {}

    def to_python(self, value: Any) -> Mapping[str, Any]:
        if isinstance(value, Mapping):
            return value
        if not value:
            return {}
        return json.loads(value) if isinstance(value, str) and value.startswith("{") else self.decrypt(value)
