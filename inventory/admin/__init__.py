"""The inventory screens: stock and supply (with spreadsheets), channel warehouses and the pairing screen,
policies with formula checks and a preview, the push outbox/ledger, and the discrepancy report."""

from inventory.admin import channels, policy, pushes, stock  # noqa: F401
