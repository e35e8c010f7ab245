"""PostgreSQL only: a trigram index so "reason contains" stays fast when the text is rare in a big log."""

from __future__ import annotations

from django.db import migrations, transaction

INDEX = "audit_reason_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception:  # no privilege to add the extension: the search still works, just scans
        return
    # icontains compiles to UPPER(reason::text) LIKE UPPER(%s); index that very expression.
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON audit_auditevent USING gin ((UPPER(reason::text)) gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]
    operations = [migrations.RunPython(create, drop)]
