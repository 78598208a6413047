"""The NuORDER connector: `connector.py` speaks the API, `parse.py` turns its JSON into records and back."""

from integrations.connectors.nuorder.connector import NuOrderConnector

__all__ = ["NuOrderConnector"]
