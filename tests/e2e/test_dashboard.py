"""The dashboard in a browser: logging in lands on it; refused credentials show as a red cell that leads to
the failing run."""

import re

import pytest

pytest.importorskip("playwright", reason="playwright is not installed: `pip install -r requirements.lock`")
from playwright.sync_api import expect

from integrations.health_matrix import channel_flows
from integrations.models import SyncRun
from integrations.runner import flow_run
from tests.e2e.conftest import PASSWORD, screenshot
from tests.e2e.world import build_world

pytestmark = pytest.mark.e2e


def test_log_in_lands_on_the_dashboard(browser, live_server, operator):
    page = browser.new_page()
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "not the password")
    page.click("input[type=submit]")
    expect(page.locator(".errornote")).to_contain_text("Please enter the correct username and password")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page).to_have_title("Dashboard | Switchyard")
    expect(page.locator("#site-name")).to_have_text("Switchyard")
    expect(page.locator("h2", has_text="Channel health")).to_be_visible()


def test_refused_credentials_turn_a_cell_red_that_leads_to_the_failing_run(page, sandbox, sandbox_channel):
    ca = sandbox.api("channeladvisor")
    channel = sandbox_channel("channeladvisor", credentials={**ca.credentials, "refresh_token": "revoked"})
    channel.set_flow("orders.download", enabled=True)
    channel.save()
    failed = flow_run(channel=channel, flow="orders.download", trigger=SyncRun.Trigger.MANUAL)
    assert failed.status == SyncRun.Status.FAILED

    page.goto(f"{page.base}/admin/")
    row = page.locator("table.sy-matrix tr", has_text=channel.name)
    cell = row.locator('a[data-flow="orders.download"]')
    expect(cell).to_have_class(re.compile(r"\bsy-bad\b"))
    expect(cell).to_contain_text("failing")
    cell.click()
    expect(page).to_have_url(re.compile(rf"channel__id__exact={channel.pk}"))
    page.locator("#result_list tbody tr").first.locator("th a, td a").first.click()
    expect(page.locator("#content")).to_contain_text("refresh token is not valid or was revoked")


def test_dashboard_screenshot_of_a_busy_operation(page):
    """Saved to artefacts/dashboard.png for a person to look at (and for the README's image)."""
    world = build_world()
    page.goto(f"{page.base}/admin/")
    ca = world["channeladvisor"]
    refused = [flow for flow in ca.flow_settings if flow in channel_flows(ca)]  # every one the world ran fails
    expect(page.locator("table.sy-matrix tr", has_text=ca.name).locator("a.sy-bad")).to_have_count(len(refused))
    expect(page.locator("svg.sy-chart")).to_have_count(3)
    expect(page.locator(".sy-chart-box").first).to_contain_text(world["nuorder"].name)  # the legend
    path = screenshot(page, "dashboard.png")
    assert path.stat().st_size > 10_000
