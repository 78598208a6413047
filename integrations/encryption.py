"""Key rotation: re-encrypt every stored secret with the newest FIELD_ENCRYPTION_KEY.

The fields are found in the model registry (every EncryptedField of every installed model), so a secret added
to any app is rotated without touching this module. Rows are read and written a batch at a time, by primary key,
straight from the column (no decrypt-to-model round trip), and each UPDATE only replaces a token that is still
the one read, so a credential a worker saves meanwhile is never overwritten with an older one.
"""

from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.db.models import Case, F, Model, Q, TextField, Value, When
from django.db.models.functions import Cast
from django.db.models.lookups import Exact

from integrations.fields import EncryptedField, keyring, newest_key

BATCH = 500


@dataclass
class RotationCount:
    """What rotation did to one field: re-encrypted, already under the newest key, and the rows no key opens."""

    label: str
    rotated: int = 0
    current: int = 0
    undecryptable: list[object] = field(default_factory=list)


def encrypted_fields() -> list[tuple[type[Model], EncryptedField]]:
    """Every encrypted field of every installed, concrete, managed model."""
    return [
        (model, model_field)
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
        for model_field in model._meta.concrete_fields
        if isinstance(model_field, EncryptedField)
    ]


def encrypted_values_rotate(*, batch_size: int = BATCH) -> list[RotationCount]:
    """Re-encrypt every stored encrypted value with the newest key; one count per field."""
    return [_rotate_field(model, model_field, batch_size) for model, model_field in encrypted_fields()]


def _rotate_field(model: type[Model], model_field: EncryptedField, batch_size: int) -> RotationCount:
    count = RotationCount(label=f"{model._meta.label}.{model_field.name}")
    newest, ring = newest_key(), keyring()
    # Cast: read the token as text, without the field's decrypting from_db_value.
    tokens = model._base_manager.annotate(_token=Cast(model_field.attname, TextField())).order_by("pk")
    last_pk = None
    while True:
        page = tokens if last_pk is None else tokens.filter(pk__gt=last_pk)
        rows = list(page.values_list("pk", "_token")[:batch_size])
        if not rows:
            return count
        last_pk = rows[-1][0]
        pending: dict[object, tuple[str, str]] = {}
        for pk, token in rows:
            if not token:
                continue
            try:
                newest.decrypt(token.encode())
                count.current += 1
                continue
            except InvalidToken:
                pass
            try:
                pending[pk] = (token, ring.rotate(token.encode()).decode())
            except InvalidToken:
                count.undecryptable.append(pk)
        if pending:
            count.rotated += _replace_tokens(model, model_field, pending)


def _replace_tokens(model: type[Model], model_field: EncryptedField, pending: dict[object, tuple[str, str]]) -> int:
    """One UPDATE for the batch; a row whose token changed since it was read keeps its new one."""
    column = F(model_field.attname)
    unchanged = reduce(
        or_, (Q(Exact(column, Value(old, output_field=TextField())), pk=pk) for pk, (old, _) in pending.items())
    )
    new_tokens = Case(
        *(When(pk=pk, then=Value(new, output_field=TextField())) for pk, (_, new) in pending.items()),
        output_field=TextField(),
    )
    return model._base_manager.filter(unchanged).update(**{model_field.attname: new_tokens})
