"""ChannelAdvisor REST API v1 (OData v4): orders, export flags, shipments, quantities per distribution
center, products and distribution centers. See connector.py."""

from integrations.connectors.channeladvisor.connector import ChannelAdvisorConnector

__all__ = ["ChannelAdvisorConnector"]
