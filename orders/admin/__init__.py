"""The orders app in the admin, a module per screen: orders, shipments, and customers with the order rules.
Importing the package registers them all."""

from orders.admin import orders, rules, shipments  # noqa: F401
