"""config/env.py: the strict readers that refuse an unsafe or unreadable environment."""

import pytest
from cryptography.fernet import Fernet

from config.env import ConfigurationRefused, debug_flag, encryption_keys, proxy_ssl_header, secret_key, strict_bool

EMBEDDED = "embedded-public-secret"


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("TRUE", True), ("on", True), ("0", False), ("no", False)])
def test_strict_bool_reads_the_known_spellings(raw, expected):
    assert strict_bool("FLAG", default=not expected, environ={"FLAG": raw}) is expected


def test_strict_bool_is_the_default_when_unset_or_blank():
    assert strict_bool("FLAG", default=True, environ={}) is True
    assert strict_bool("FLAG", default=False, environ={"FLAG": " "}) is False


def test_strict_bool_refuses_an_unknown_spelling_naming_the_variable():
    with pytest.raises(ConfigurationRefused, match="DEBUG='flase' is not a boolean"):
        strict_bool("DEBUG", default=False, environ={"DEBUG": "flase"})


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, False),
        ({"DEBUG": "0"}, False),
        ({"DJANGO_DEBUG": "0"}, False),
        ({"DEBUG": "true"}, True),
        ({"DJANGO_DEBUG": "1"}, True),
        ({"DEBUG": "1", "DJANGO_DEBUG": "yes"}, True),
    ],
)
def test_debug_is_off_unless_debug_or_django_debug_turns_it_on(environ, expected):
    assert debug_flag(environ) is expected


def test_debug_and_django_debug_that_disagree_are_refused():
    with pytest.raises(ConfigurationRefused, match="disagree"):
        debug_flag({"DEBUG": "1", "DJANGO_DEBUG": "0"})


def test_secret_key_is_required_without_debug():
    with pytest.raises(ConfigurationRefused, match="SECRET_KEY is not set and DEBUG is off"):
        secret_key(None, debug=False, embedded=EMBEDDED, hosts=["127.0.0.1"])


def test_an_empty_secret_key_is_refused_even_in_debug():
    with pytest.raises(ConfigurationRefused, match="SECRET_KEY is set but empty"):
        secret_key("  ", debug=True, embedded=EMBEDDED, hosts=["127.0.0.1"])


def test_the_embedded_secret_serves_only_debug_on_loopback():
    assert secret_key(None, debug=True, embedded=EMBEDDED, hosts=["127.0.0.1", "localhost"]) == EMBEDDED
    with pytest.raises(ConfigurationRefused, match="embedded SECRET_KEY is public"):
        secret_key(None, debug=True, embedded=EMBEDDED, hosts=["hub.example.com"])
    with pytest.raises(ConfigurationRefused, match="embedded SECRET_KEY is public"):
        secret_key(EMBEDDED, debug=False, embedded=EMBEDDED, hosts=["127.0.0.1"])


def test_encryption_keys_are_a_list_newest_first():
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    assert encryption_keys(f" {new} , {old},", debug=False, fallback="unused") == [new, old]


def test_encryption_key_is_required_without_debug_and_derived_only_in_debug():
    with pytest.raises(ConfigurationRefused, match="FIELD_ENCRYPTION_KEY is not set and DEBUG is off"):
        encryption_keys("", debug=False, fallback="derived")
    assert encryption_keys("", debug=True, fallback="derived") == ["derived"]


def test_a_key_that_is_not_a_fernet_key_is_refused_by_position_and_never_echoed():
    good = Fernet.generate_key().decode()
    with pytest.raises(ConfigurationRefused, match="key 2 of 2 is not a Fernet key") as refused:
        encryption_keys(f"{good},not-a-key-s3cr3t", debug=True, fallback="derived")
    assert "s3cr3t" not in str(refused.value)


def test_proxy_ssl_header_is_a_header_and_its_https_value():
    assert proxy_ssl_header("HTTP_X_FORWARDED_PROTO,https") == ("HTTP_X_FORWARDED_PROTO", "https")
    assert proxy_ssl_header("") is None
    with pytest.raises(ConfigurationRefused, match="SECURE_PROXY_SSL_HEADER"):
        proxy_ssl_header("X-Forwarded-Proto")
