"""config/settings.py as a deployment meets it: each test starts a fresh `manage.py` process with exactly the
environment it names (never the suite's own), because settings are read once, at start-up."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
NO_ISSUES = "System check identified no issues (0 silenced).\n"
SECRETS = ("SECRET_KEY", "FIELD_ENCRYPTION_KEY")


def env_example() -> dict[str, str]:
    """The production template's active `NAME=value` lines (.env.example), as documented."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if line.strip() and not line.lstrip().startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def production_environment() -> dict[str, str]:
    """The documented production environment with its two secrets filled in, as an operator would."""
    filled = {
        "SECRET_KEY": "k7" * 20 + "-unique-production-secret-Q9z",
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    return {**env_example(), **filled}


def manage(*args: str, **environment: str) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def refusal(done: subprocess.CompletedProcess) -> str:
    """The one line a refused start prints; fails the test on a traceback or a start that was not refused."""
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("Switchyard refuses to start: "), done.stderr
    return done.stderr


def test_the_production_template_leaves_only_the_two_secrets_to_fill():
    documented = env_example()

    assert sorted(name for name, value in documented.items() if not value) == sorted(SECRETS)
    assert documented["DEBUG"] == "false"


def test_check_deploy_is_silent_with_the_documented_production_environment():
    done = manage("check", "--deploy", "--fail-level", "WARNING", **production_environment())

    assert (done.returncode, done.stderr, done.stdout) == (0, "", NO_ISSUES)


def test_check_deploy_warns_when_the_https_settings_are_left_out():
    https = ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")
    environment = {name: value for name, value in production_environment().items() if name not in https}

    done = manage("check", "--deploy", **environment)

    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in done.stderr


def test_every_production_variable_is_in_the_security_docs():
    docs = (ROOT / "docs" / "security.md").read_text()

    assert [name for name in env_example() if f"`{name}`" not in docs] == []


def test_every_variable_the_settings_read_is_in_env_example():
    code = (ROOT / "config" / "settings.py").read_text() + (ROOT / "config" / "env.py").read_text()
    read = set(re.findall(r'(?:env(?:\.\w+)?|strict_bool|ENVIRON\.get)\(\s*"([A-Z][A-Z0-9_]+)"', code))
    read |= set(re.findall(r"for name in \(([^)]*)\)", code)[0].replace('"', "").replace(" ", "").split(","))
    example = (ROOT / ".env.example").read_text()

    assert len(read) > 20
    assert sorted(name for name in read if not re.search(rf"\b{name}=", example)) == []


def test_a_start_with_nothing_configured_is_refused_in_one_line():
    assert "SECRET_KEY is not set and DEBUG is off" in refusal(manage("check"))


def test_the_wsgi_server_refuses_to_load_with_nothing_configured():
    base = {"PATH": os.environ["PATH"], "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"], cwd=ROOT, env=base, capture_output=True, text=True, check=False
    )

    assert done.returncode == 1
    assert "ConfigurationRefused: SECRET_KEY is not set and DEBUG is off" in done.stderr


@pytest.mark.parametrize(("switch", "expected"), [({}, "False"), ({"DJANGO_DEBUG": "1"}, "True")])
def test_debug_is_off_unless_the_environment_turns_it_on(switch, expected):
    environment = {name: value for name, value in production_environment().items() if name != "DEBUG"}
    code = "from django.conf import settings; print(settings.DEBUG)"

    done = manage("shell", "--no-imports", "-c", code, **environment, **switch)

    assert done.stdout.strip() == expected, done.stderr


def test_django_debug_0_is_not_read_as_debug_on():
    assert "SECRET_KEY is not set and DEBUG is off" in refusal(manage("check", DJANGO_DEBUG="0"))


def test_an_unknown_debug_spelling_is_refused():
    assert "DEBUG='flase' is not a boolean" in refusal(
        manage("check", **{**production_environment(), "DEBUG": "flase"})
    )


def test_an_empty_secret_key_is_refused_at_startup():
    assert "SECRET_KEY is set but empty" in refusal(manage("check", **{**production_environment(), "SECRET_KEY": ""}))


def test_a_field_encryption_key_that_is_not_a_fernet_key_is_refused_at_startup():
    environment = {**production_environment(), "FIELD_ENCRYPTION_KEY": "not-a-fernet-key-s3cr3t"}

    line = refusal(manage("check", **environment))

    assert "FIELD_ENCRYPTION_KEY: key 1 of 1 is not a Fernet key" in line
    assert "s3cr3t" not in line


def test_the_embedded_secret_is_refused_for_a_public_host_even_in_debug():
    done = manage("check", DEBUG="1", ALLOWED_HOSTS="switchyard.example.com")

    assert "embedded SECRET_KEY is public" in refusal(done)
