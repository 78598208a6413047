"""The three roles a deployment starts with, as auth Groups that Switchyard owns.

A data migration creates them (access/migrations/0001) and every `migrate` applies them again, so a model added
later is covered and a group edited by hand is put back: to customise a role, copy the group under a new name.
What each role may do is written out in docs/operations.md ("Who may do what").
"""

from collections.abc import Iterable
from pathlib import Path

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import DEFAULT_DB_ALIAS

OPERATIONS_MANAGER = "Operations manager"
MAPPING_STAFF = "Mapping staff"
VIEWER = "Viewer"
ROLES = (OPERATIONS_MANAGER, MAPPING_STAFF, VIEWER)

Perm = tuple[str, str]  # (app label, codename)

# Kept for superusers (or a group made on purpose): credentials and the base URL they go to, and deleting a
# channel, which deletes its orders, listings and history with it.
HELD_BACK: frozenset[Perm] = frozenset(
    {("integrations", "change_channel_credentials"), ("integrations", "delete_channel")}
)
# Mapping staff work the mapping screen and the spreadsheet imports (an import needs add and change).
MAPPING_WORK: frozenset[Perm] = frozenset(
    (app, f"{verb}_{model}")
    for app, model in (("catalog", "itemmapping"), ("inventory", "stocklevel"), ("inventory", "incomingsupply"))
    for verb in ("add", "change")
)
# The task queue is read-only for every group: schedules and resubmits are code execution (superusers only).
QUEUE_APP = "django_q"


def project_app_labels() -> frozenset[str]:
    """Switchyard's own apps (the project directory's packages, not its virtualenv's), whatever is added later."""
    base = Path(settings.BASE_DIR).resolve()
    return frozenset(c.label for c in global_apps.get_app_configs() if Path(c.path).resolve().parent == base)


def role_grants(role: str, available: Iterable[Perm]) -> set[Perm]:
    """The permissions a role gets out of those that exist."""
    project = project_app_labels()
    available = set(available)
    viewing = {
        (app, code) for app, code in available if code.startswith("view_") and (app in project or app == QUEUE_APP)
    }
    if role == VIEWER:
        return viewing
    if role == MAPPING_STAFF:
        return viewing | (MAPPING_WORK & available)
    if role == OPERATIONS_MANAGER:
        return viewing | {(app, code) for app, code in available if app in project and (app, code) not in HELD_BACK}
    raise ValueError(f"Unknown role {role!r}; the roles are {', '.join(ROLES)}.")


def groups_sync(*, apps: Apps = global_apps, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the role groups and set each one's permissions to exactly its grants."""
    for app_config in global_apps.get_app_configs():
        # Permissions are otherwise created after the last migration; the groups need them now.
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
    group_model, permission_model = apps.get_model("auth", "Group"), apps.get_model("auth", "Permission")
    ids = {
        (app, code): pk
        for pk, app, code in permission_model.objects.using(using).values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    for role in ROLES:
        group, _ = group_model.objects.using(using).get_or_create(name=role)
        group.permissions.set([ids[grant] for grant in role_grants(role, ids)])


def groups_sync_after_migrate(sender, *, apps: Apps = global_apps, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    groups_sync(apps=apps, using=using)
