"""Fixtures of the connector tests: the ChannelAdvisor sandbox and connectors pointed at it."""

import pytest

from integrations.connectors.channeladvisor import ChannelAdvisorConnector
from integrations.http import RetryPolicy

FAST = RetryPolicy(backoff=0.01)


@pytest.fixture
def ca(sandbox):
    return sandbox.api("channeladvisor")


@pytest.fixture
def connect(sandbox, ca, request):
    """`connect(**settings)`: a ChannelAdvisor connector on the sandbox with fast retries, closed after the test."""
    made = []

    def make(**settings):
        connector = ChannelAdvisorConnector(
            base_url=sandbox.url("channeladvisor"),
            credentials=dict(ca.credentials),
            settings=settings,
            label=f"ca-{request.node.name}"[:50],
            retry=FAST,
            timeout=(1, 1),
        )
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()
