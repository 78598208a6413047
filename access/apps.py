from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccessConfig(AppConfig):
    """Who may do what: the permission groups a deployment starts with (access/roles.py)."""

    name = "access"
    verbose_name = "Access"

    def ready(self) -> None:
        from access.roles import groups_sync_after_migrate

        # After every migrate, not only the first: a model added later gets its permissions in the groups.
        post_migrate.connect(groups_sync_after_migrate, sender=self, dispatch_uid="access.groups_sync")
