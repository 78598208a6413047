"""The generic fulfillment-system connector, the worked example of docs/connectors.md: connector.py speaks the
JSON contract of docs/oms-api.md (Bearer API key, keyset paging, Idempotency-Key), parse.py turns its rows into
records and the order record into its POST body."""

from integrations.connectors.oms.connector import OmsConnector

__all__ = ["OmsConnector"]
