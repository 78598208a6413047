"""Local simulators of every external API, for tests and the demo. See integrations/sandbox/server.py."""
