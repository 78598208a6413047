"""An Extensiv channel row pointed at the sandbox builds a working connector through connector_for."""

import pytest

from integrations.connectors import connector_for
from integrations.connectors.extensiv import ExtensivConnector
from integrations.models import SyncRun
from integrations.runner import flow_run

pytestmark = pytest.mark.django_db


def test_channel_row_builds_a_connector_that_reaches_the_sandbox(sandbox_channel):
    channel = sandbox_channel("extensiv", settings={"excluded_warehouses": ["Amazon FBA"]})

    connector = connector_for(channel)
    try:
        assert isinstance(connector, ExtensivConnector)
        assert connector.test_connection().startswith("connected; 3 warehouse(s)")
        assert [w.name for w in connector.warehouses_download()] == ["Main warehouse", "East coast"]
        assert next(iter(connector.orders_download(since=None))).number
    finally:
        connector.close()


def test_channel_settings_of_the_sandbox_turn_off_the_adjust_pause(sandbox_channel):
    channel = sandbox_channel("extensiv")

    assert connector_for(channel).settings["adjust_interval"] == 0


def test_an_install_code_is_exchanged_once_and_the_token_kept_on_the_channel(sandbox, sandbox_channel):
    om = sandbox.api("extensiv")
    channel = sandbox_channel(
        "extensiv", credentials={"app_key": om.app_key, "app_secret": om.app_secret, "code": om.issue_code()}
    )
    first = flow_run(channel=channel, flow="warehouses.download", trigger=SyncRun.Trigger.MANUAL)
    assert first.status == "ok", first.error

    channel.refresh_from_db()
    assert channel.credentials["access_token"] in om.tokens
    assert "code" not in channel.credentials  # spent: a second exchange could only fail
    again = flow_run(channel=channel, flow="warehouses.download", trigger=SyncRun.Trigger.MANUAL)
    assert again.status == "ok", again.error
    assert om.calls_to("POST", "/oauth/token") == 1
