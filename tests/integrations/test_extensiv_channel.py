"""An Extensiv channel row pointed at the sandbox builds a working connector through connector_for."""

import pytest

from integrations.connectors import connector_for
from integrations.connectors.extensiv import ExtensivConnector

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
