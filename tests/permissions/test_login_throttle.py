"""Logins are throttled by django-axes: AXES_FAILURE_LIMIT failures for one username from one address lock that
pair out, even with the right password, and a successful login resets the count."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # a login in ms, not a second
    return get_user_model().objects.create_user("ops", password=PASSWORD, is_staff=True)


def login(client: Client, password: str, address: str = "10.0.0.1"):
    data = {"username": "ops", "password": password, "next": reverse("admin:index")}
    return client.post(reverse("admin:login"), data, REMOTE_ADDR=address)


def test_the_sixth_attempt_is_refused_even_with_the_right_password(staff, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    client = Client()
    failures = [login(client, "wrong").status_code for _ in range(5)]

    sixth = login(client, PASSWORD)

    assert failures[:4] == [200] * 4  # the form again, with its error
    assert sixth.status_code == 429 and "_auth_user_id" not in client.session


def test_four_failures_then_the_right_password_logs_in_and_resets_the_count(staff):
    client = Client()
    for _ in range(4):
        login(client, "wrong")

    assert login(client, PASSWORD).status_code == 302
    client.post(reverse("admin:logout"))
    for _ in range(4):
        login(client, "wrong")
    assert login(client, PASSWORD).status_code == 302  # 8 failures in all, never 5 in a row


def test_the_lockout_is_per_address(staff):
    for _ in range(5):
        login(Client(), "wrong", address="10.0.0.1")

    assert login(Client(), PASSWORD, address="10.0.0.2").status_code == 302
