"""The database itself refuses UPDATE, DELETE and TRUNCATE on the audit table (PostgreSQL and SQLite).

A TRUNCATE of an already empty table is let through so that test runs can flush the database; nothing is lost.
On SQLite a later migration that rebuilds audit_auditevent drops these triggers: it must reinstall them
(adminpanel.audit.triggers.install).
"""

from __future__ import annotations

from django.db import migrations

from adminpanel.audit import triggers


def install(apps, schema_editor):
    triggers.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    triggers.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
