"""Who may use what: the table the permission walk (test_walk.py) holds every URL and action to.

A role is let through a GET or POST when the answer is the page, file or redirect it asked for; refused when it is
a 403, a 404, a 405, a redirect to the login page, or an action Django drops ("No action selected.").
A URL or action missing from these tables fails the walk: add it here, with the roles that may use it.
"""

from dataclasses import dataclass

ROLES = ("anonymous", "nonstaff", "viewonly", "viewer", "mapping", "operations", "superuser")

EVERYONE = frozenset(ROLES)
NOBODY: frozenset[str] = frozenset()
STAFF = frozenset({"viewonly", "viewer", "mapping", "operations", "superuser"})  # every staff role reads Switchyard
SYSTEM_READERS = frozenset({"viewonly", "superuser"})  # users, groups, login attempts: no group reads them
MAPPERS = frozenset({"mapping", "operations", "superuser"})
OPERATORS = frozenset({"operations", "superuser"})
SUPERUSER = frozenset({"superuser"})


@dataclass(frozen=True)
class Access:
    view: frozenset[str] = STAFF
    add: frozenset[str] = NOBODY
    change: frozenset[str] = NOBODY
    delete: frozenset[str] = NOBODY
    # Spreadsheet import needs change (IMPORT_EXPORT_IMPORT_PERMISSION_CODE); export needs view.

    def for_url(self, suffix: str) -> tuple[frozenset[str], frozenset[str]] | None:
        """(GET, POST) roles for one of a ModelAdmin's standard URLs, by its route; None for a custom one."""
        return {
            "": (self.view, self.view),  # the list (a POST without an action only shows it again)
            "add/": (self.add, self.add),
            "<path:object_id>/change/": (self.view, self.change),
            "<path:object_id>/history/": (self.view, self.view),
            "<path:object_id>/delete/": (self.delete, self.delete),
            # Django's redirect from the old change URL: staff only, and it shows nothing.
            "<path:object_id>/": (STAFF, STAFF),
            "import/": (self.change, self.change),
            "process_import/": (NOBODY, self.change),
            "export/": (self.view, self.view),
        }.get(suffix)


OPERATIONAL = Access(add=OPERATORS, change=OPERATORS, delete=OPERATORS)
FLOW_RECORDS = Access(delete=OPERATORS)  # written by the flows; read, and deleted by operators
SPREADSHEET_DATA = Access(add=MAPPERS, change=MAPPERS, delete=OPERATORS)
SYSTEM = Access(view=SYSTEM_READERS, add=SUPERUSER, change=SUPERUSER, delete=SUPERUSER)
TASK_RECORDS = Access(change=SUPERUSER, delete=SUPERUSER)  # every field read-only; resubmitting is an action

MODELS: dict[str, Access] = {
    "auth.group": SYSTEM,
    "auth.user": SYSTEM,
    # Login attempts: every field read-only (a superuser's save changes nothing); deleting one unlocks a user.
    "axes.accessattempt": Access(view=SYSTEM_READERS, change=SUPERUSER, delete=SUPERUSER),
    "axes.accesslog": Access(view=SYSTEM_READERS, change=SUPERUSER, delete=SUPERUSER),
    "axes.accessfailurelog": Access(view=SYSTEM_READERS, change=SUPERUSER, delete=SUPERUSER),
    # The walk's schedule is one Switchyard manages: read-only for everyone, superusers included.
    "django_q.schedule": Access(add=SUPERUSER),
    "django_q.success": TASK_RECORDS,
    "django_q.failure": TASK_RECORDS,
    "django_q.ormq": TASK_RECORDS,
    "integrations.channel": Access(add=OPERATORS, change=OPERATORS, delete=SUPERUSER),
    "integrations.syncrun": FLOW_RECORDS,
    "integrations.syncissue": FLOW_RECORDS,  # resolved and retried with actions, never edited
    "integrations.synccursor": FLOW_RECORDS,
    "catalog.item": Access(),  # items come from the fulfillment system: read-only here
    "catalog.itemmapping": SPREADSHEET_DATA,
    "orders.order": Access(),  # read-only; delete/resubmit are actions
    "orders.shipment": Access(),  # read-only; re-send is an action
    "orders.customer": Access(change=OPERATORS, delete=OPERATORS),
    "orders.orderrules": OPERATIONAL,
    "inventory.warehouse": Access(),  # from the fulfillment system: read-only here
    "inventory.channelwarehouse": OPERATIONAL,
    "inventory.warehousepairing": Access(),  # the menu entry of the pairing screen: read here, paired there
    "inventory.inventorypolicy": OPERATIONAL,
    "inventory.stocklevel": SPREADSHEET_DATA,
    "inventory.incomingsupply": SPREADSHEET_DATA,
    "inventory.pushledger": FLOW_RECORDS,
    "inventory.pushintent": FLOW_RECORDS,
    "inventory.discrepancy": FLOW_RECORDS,
}

# URLs that are not a ModelAdmin's standard ones: (GET roles, POST roles).
URLS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "": (EVERYONE, EVERYONE),  # / redirects to /admin/
    "admin:index": (STAFF, STAFF),
    "admin:login": (EVERYONE, EVERYONE),  # the form (a POST without credentials shows it again)
    # POST only (GET is a 405 for staff); a visitor who is not staff is sent to the index, then to the login page.
    "admin:logout": (frozenset({"anonymous", "nonstaff"}), EVERYONE),
    "admin:password_change": (STAFF, STAFF),
    "admin:password_change_done": (STAFF, NOBODY),
    "admin:autocomplete": (STAFF, NOBODY),  # a listing's item search: needs view on items
    "admin:jsi18n": (STAFF, NOBODY),
    "admin:view_on_site": (NOBODY, NOBODY),  # no model has a public URL
    "admin:app_list": (STAFF, STAFF),  # the catalog app
    "admin/(?P<url>.*)$": (NOBODY, NOBODY),  # unknown admin URLs
    "orders:hook": (NOBODY, NOBODY),  # no session involved: an unsigned notification is refused
    "admin:auth_user_password_change": (SUPERUSER, SUPERUSER),
    "admin:integrations_channel_test": (NOBODY, OPERATORS),
    "admin:integrations_channel_run": (NOBODY, OPERATORS),
    "admin:integrations_syncissue_retry": (NOBODY, OPERATORS),
    "admin:integrations_syncissue_resolve": (NOBODY, OPERATORS),
    "admin:catalog_itemmapping_choose": (NOBODY, MAPPERS),  # one-click choice of a candidate item
    # A mapping import job's page, confirmation and cancellation: whoever may import, on their own job only (the
    # walk asks for the role's own job; another user's is a 404: tests/catalog/test_import_admin.py).
    "admin:catalog_itemmapping_import_job": (MAPPERS, NOBODY),
    "admin:catalog_itemmapping_import_confirm": (NOBODY, MAPPERS),
    "admin:catalog_itemmapping_import_cancel": (NOBODY, MAPPERS),
    # The same for stock-level and incoming-supply import jobs (tests/inventory/test_import_jobs.py).
    "admin:inventory_stocklevel_import_job": (MAPPERS, NOBODY),
    "admin:inventory_stocklevel_import_confirm": (NOBODY, MAPPERS),
    "admin:inventory_stocklevel_import_cancel": (NOBODY, MAPPERS),
    "admin:inventory_incomingsupply_import_job": (MAPPERS, NOBODY),
    "admin:inventory_incomingsupply_import_confirm": (NOBODY, MAPPERS),
    "admin:inventory_incomingsupply_import_cancel": (NOBODY, MAPPERS),
    "admin:inventory_pairing_index": (STAFF, STAFF),
    "admin:inventory_pairing": (STAFF, OPERATORS),
}

# Requests the URL walk does not make on its own: (label, URL name, POST data, roles); the object is the URL's model's.
EXTRA_POSTS = [
    ("policy preview", "admin:inventory_inventorypolicy_change", {"_preview": "Preview"}, OPERATORS),
    ("policy preview before adding", "admin:inventory_inventorypolicy_add", {"_preview": "Preview"}, OPERATORS),
    ("pairing suggestions accepted", "admin:inventory_pairing", {"accept_suggestions": "1"}, OPERATORS),
]

ACTIONS: dict[str, dict[str, frozenset[str]]] = {
    "auth.group": {"delete_selected": SUPERUSER},
    "auth.user": {"delete_selected": SUPERUSER},
    "axes.accessattempt": {"delete_selected": SUPERUSER, "cleanup_expired_attempts": SUPERUSER},
    "axes.accesslog": {"delete_selected": SUPERUSER},
    "axes.accessfailurelog": {"delete_selected": SUPERUSER},
    # delete_selected only opens the confirmation; a managed schedule on it is refused there.
    "django_q.schedule": {"delete_selected": SUPERUSER},
    "django_q.success": {"delete_selected": SUPERUSER, "resubmit": SUPERUSER},
    "django_q.failure": {"delete_selected": SUPERUSER, "resubmit": SUPERUSER},
    "django_q.ormq": {"delete_selected": SUPERUSER},
    "integrations.channel": {
        "delete_selected": SUPERUSER,
        "test_connection": OPERATORS,
        "run_enabled_flows": OPERATORS,
    },
    "integrations.syncrun": {"delete_selected": OPERATORS},
    "integrations.syncissue": {"delete_selected": OPERATORS, "retry": OPERATORS, "resolve": OPERATORS},
    "integrations.synccursor": {"delete_selected": OPERATORS},
    "catalog.item": {"delete_selected": OPERATORS},
    "catalog.itemmapping": {
        "delete_selected": OPERATORS,
        "automap_selected": MAPPERS,
        "ignore_selected": MAPPERS,
        "unignore_selected": MAPPERS,
        "accept_suggestion": MAPPERS,
    },
    "orders.order": {"delete_from_fulfillment": OPERATORS, "resubmit": OPERATORS},
    "orders.shipment": {"resend_failed_uploads": OPERATORS},
    "orders.customer": {"delete_selected": OPERATORS},
    "orders.orderrules": {"delete_selected": OPERATORS},
    "inventory.warehouse": {"delete_selected": OPERATORS},
    "inventory.channelwarehouse": {"delete_selected": OPERATORS},
    "inventory.inventorypolicy": {"delete_selected": OPERATORS},
    "inventory.stocklevel": {"delete_selected": OPERATORS},
    "inventory.incomingsupply": {"delete_selected": OPERATORS},
    "inventory.pushledger": {"delete_selected": OPERATORS},
    "inventory.pushintent": {"delete_selected": OPERATORS},
    "inventory.discrepancy": {"delete_selected": OPERATORS, "push_again": OPERATORS},
}
