"""Key rotation (integrations/encryption.py, `manage.py rotate_encryption_keys`): a list of keys, newest first;
the command re-encrypts every stored secret with the newest one."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from integrations.encryption import _replace_tokens, encrypted_fields, encrypted_values_rotate
from integrations.fields import EncryptedField
from integrations.models import Channel
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def new_key() -> str:
    return Fernet.generate_key().decode()


def stored_token(channel: Channel) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM integrations_channel WHERE id = %s", [channel.pk])
        return cursor.fetchone()[0]


@pytest.fixture
def old_key(settings) -> str:
    """Rows written under a key that is about to become the old one."""
    key = new_key()
    settings.FIELD_ENCRYPTION_KEYS = [key]
    return key


def test_a_value_saved_under_an_older_key_still_reads_when_that_key_is_listed_after_the_new_one(settings, old_key):
    channel = ChannelFactory(credentials={"api_key": "k-1"})

    settings.FIELD_ENCRYPTION_KEYS = [new_key(), old_key]

    assert Channel.objects.get(pk=channel.pk).credentials == {"api_key": "k-1"}


def test_new_values_are_encrypted_with_the_first_key(settings, old_key):
    newest = new_key()
    settings.FIELD_ENCRYPTION_KEYS = [newest, old_key]

    channel = ChannelFactory(credentials={"api_key": "k-1"})

    assert Fernet(newest).decrypt(stored_token(channel).encode())


def test_rotation_re_encrypts_every_value_with_the_newest_key_and_reports_counts(settings, old_key):
    channels = [ChannelFactory(credentials={"api_key": f"k-{n}"}) for n in range(3)]
    newest = new_key()
    settings.FIELD_ENCRYPTION_KEYS = [newest, old_key]
    ChannelFactory(credentials={"api_key": "already-new"})
    out = io.StringIO()

    call_command("rotate_encryption_keys", stdout=out)

    assert "integrations.Channel.credentials: 3 re-encrypted, 1 already under the newest key" in out.getvalue()
    assert "the older keys can now be removed" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = [newest]  # the old key dropped: everything still reads
    for n, channel in enumerate(channels):
        assert Fernet(newest).decrypt(stored_token(channel).encode())
        assert Channel.objects.get(pk=channel.pk).credentials == {"api_key": f"k-{n}"}


def test_rotation_twice_re_encrypts_nothing_the_second_time(settings, old_key):
    ChannelFactory(credentials={"api_key": "k"})
    settings.FIELD_ENCRYPTION_KEYS = [new_key(), old_key]
    encrypted_values_rotate()

    (count,) = [c for c in encrypted_values_rotate() if c.label == "integrations.Channel.credentials"]

    assert (count.rotated, count.current, count.undecryptable) == (0, 1, [])


def test_a_value_no_key_decrypts_is_reported_left_as_it_is_and_fails_the_command(settings, old_key):
    lost = ChannelFactory(credentials={"api_key": "lost"})
    kept = ChannelFactory(credentials={"api_key": "kept"})
    before = stored_token(lost)
    settings.FIELD_ENCRYPTION_KEYS = [new_key()]
    kept.credentials = {"api_key": "kept"}
    kept.save()  # re-entered under the new key
    out = io.StringIO()

    with pytest.raises(CommandError, match="1 value\\(s\\) cannot be decrypted with any FIELD_ENCRYPTION_KEY"):
        call_command("rotate_encryption_keys", stdout=out)

    assert f"1 cannot be decrypted (ids {lost.pk})" in out.getvalue()
    assert stored_token(lost) == before


def test_rotation_reads_and_writes_a_batch_at_a_time(settings, old_key, django_assert_num_queries):
    for n in range(25):
        ChannelFactory(credentials={"api_key": f"k-{n}"})
    settings.FIELD_ENCRYPTION_KEYS = [new_key(), old_key]
    fields = len(encrypted_fields())

    # Channels: 3 batches of 10, each one SELECT and one UPDATE, and the empty SELECT that ends the walk;
    # every other encrypted field (no rows here): one empty SELECT.
    with django_assert_num_queries(3 * 2 + 1 + (fields - 1)):
        counts = encrypted_values_rotate(batch_size=10)

    assert sum(c.rotated for c in counts) == 25


def test_a_token_changed_since_it_was_read_is_not_overwritten(settings, old_key):
    channel = ChannelFactory(credentials={"api_key": "old"})
    read = stored_token(channel)
    settings.FIELD_ENCRYPTION_KEYS = [new_key(), old_key]
    channel.credentials = {"api_key": "saved meanwhile"}
    channel.save()

    replaced = _replace_tokens(Channel, Channel._meta.get_field("credentials"), {channel.pk: (read, "stale")})

    assert replaced == 0
    assert Channel.objects.get(pk=channel.pk).credentials == {"api_key": "saved meanwhile"}


def test_every_encrypted_field_of_every_installed_model_is_found():
    found = {f"{model._meta.label}.{field.name}" for model, field in encrypted_fields()}

    assert "integrations.Channel.credentials" in found
    assert all(isinstance(field, EncryptedField) for _, field in encrypted_fields())


def test_rotation_with_one_key_only_checks_every_value(settings):
    ChannelFactory(credentials={"api_key": "k"})
    out = io.StringIO()

    call_command("rotate_encryption_keys", stdout=out)

    assert "1 already under the newest key" in out.getvalue()
    assert "0 value(s) re-encrypted with key 1 of 1" in out.getvalue()
