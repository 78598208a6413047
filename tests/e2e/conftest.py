"""Browser tests: Playwright for Python drives Debian's Chromium against a live server.

Only Playwright's driver is used, never its browser download: the browser is the system's /usr/bin/chromium
(`apt-get install chromium`; `.ci/run` installs it when missing; E2E_CHROMIUM points elsewhere). Without it
these tests are skipped with the reason printed. Each module launches one Chromium (with a fresh temporary
user-data dir) and each test gets a fresh context; the flags keep Chromium off the network (these machines have
none) and out of a sandbox it cannot create in a container.
Screenshots go to artefacts/ (gitignored), for a person to look at after a run.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTEFACTS = Path(settings.BASE_DIR) / "artefacts"
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
PASSWORD = "e2e-Password-1"  # a test user's, on a throwaway database


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    """One headless Chromium per test module (Playwright gives it a fresh temporary user-data dir); skipped,
    with the reason, when there is no browser."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `apt-get install chromium` (or set E2E_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: `pip install -r requirements.lock`")
    # Playwright's sync API keeps an event loop on this thread while it lives, which Django takes for an async
    # context; the tests' own ORM calls are synchronous. Only for this module: the loop ends with it.
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture
def browser(chromium) -> Iterator:
    """A fresh browser context per test: no cookie, cache or storage from the one before."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def operator(django_user_model, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # a throwaway user: no cost
    return django_user_model.objects.create_superuser("ops", "ops@example.com", PASSWORD)


@pytest.fixture
def page(browser, live_server, operator):
    """A page already logged in as a superuser (through a session cookie: logging in is tested on its own)."""
    client = Client()
    client.force_login(operator)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    browser.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    page = browser.pages[0] if browser.pages else browser.new_page()
    page.base = live_server.url
    return page


def screenshot(page, name: str) -> Path:
    ARTEFACTS.mkdir(exist_ok=True)
    path = ARTEFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


# The orders suite's world: the sandbox catalog in the hub, its OMS, sales channels with mapped listings.
from tests.orders.conftest import items, oms, sales  # noqa: E402, F401
