"""The role groups: Operations manager, Mapping staff, Viewer (access/roles.py says what each may do)."""

from django.db import migrations


def create_groups(apps, schema_editor):
    from access.roles import groups_sync

    groups_sync(apps=apps, using=schema_editor.connection.alias)


def delete_groups(apps, schema_editor):
    from access.roles import ROLES

    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
        ("catalog", "0003_catalog_sync"),
        ("integrations", "0004_channel_credentials_permission"),
        ("inventory", "0002_reconcile_flow"),
        ("orders", "0005_submitting_claim"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
