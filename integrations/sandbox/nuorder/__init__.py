"""The NuORDER sandbox: `api.py` (routes, OAuth checks, helpers), `store.py` (inventory and update rules),
`seeding.py` (state from the World)."""

from integrations.sandbox.nuorder.api import NuOrderSandbox

__all__ = ["NuOrderSandbox"]
