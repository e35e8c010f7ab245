"""Creates the Support, Security and Auditor groups with their permissions."""

from __future__ import annotations

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Support": ["view_directory", "reveal_pii", "enroll_authenticator", "remove_authenticator"],
    "Security": [
        "view_directory",
        "reveal_pii",
        "enroll_authenticator",
        "remove_authenticator",
        "override_lockout",
        "run_bulk_jobs",
        "view_audit",
    ],
    "Auditor": ["view_audit"],
}


def create_roles(apps, schema_editor):
    # Permissions are normally made after migrate; the groups need them now.
    # (the real app config: the migration state's stub has no models module, so nothing would be made)
    create_permissions(global_apps.get_app_config("accounts"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        perms = Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames)
        group.permissions.set(perms)


def drop_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_roles, drop_roles)]
