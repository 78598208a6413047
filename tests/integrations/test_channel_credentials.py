import pytest
from django.db import connection

from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def test_credentials_are_encrypted_at_rest():
    channel = ChannelFactory(credentials={"refresh_token": "very-secret-refresh"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM integrations_channel WHERE id = %s", [channel.pk])
        (stored,) = cursor.fetchone()
    assert "very-secret-refresh" not in stored
    channel.refresh_from_db()
    assert channel.credentials == {"refresh_token": "very-secret-refresh"}
