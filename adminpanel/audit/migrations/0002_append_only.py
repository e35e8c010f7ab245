"""The database itself refuses UPDATE, DELETE and TRUNCATE on the audit table (PostgreSQL and SQLite).

A TRUNCATE of an already empty table is let through so that test runs can flush the database; nothing is lost.
On SQLite a later migration that rebuilds audit_auditevent drops these triggers: it must reinstall them.

The SQL is frozen here as it was when this migration was written: a migration must not change when live code
does (adminpanel/audit/triggers.py holds the current statements, for tests and later migrations).
"""

from __future__ import annotations

from django.db import migrations

POSTGRESQL_INSTALL = [
    """
    CREATE OR REPLACE FUNCTION audit_auditevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'TRUNCATE' AND NOT EXISTS (SELECT 1 FROM audit_auditevent) THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION 'the audit log is append-only: % on audit_auditevent refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$
    """,
    "DROP TRIGGER IF EXISTS audit_auditevent_no_update_delete ON audit_auditevent",
    """CREATE TRIGGER audit_auditevent_no_update_delete BEFORE UPDATE OR DELETE ON audit_auditevent
        FOR EACH ROW EXECUTE FUNCTION audit_auditevent_append_only()""",
    "DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent",
    """CREATE TRIGGER audit_auditevent_no_truncate BEFORE TRUNCATE ON audit_auditevent
        FOR EACH STATEMENT EXECUTE FUNCTION audit_auditevent_append_only()""",
]

POSTGRESQL_UNINSTALL = [
    "DROP TRIGGER IF EXISTS audit_auditevent_no_update_delete ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent",
    "DROP FUNCTION IF EXISTS audit_auditevent_append_only()",
]

SQLITE_INSTALL = [
    """CREATE TRIGGER IF NOT EXISTS audit_auditevent_no_update BEFORE UPDATE ON audit_auditevent
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE on audit_auditevent refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_auditevent_no_delete BEFORE DELETE ON audit_auditevent
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE on audit_auditevent refused'); END""",
]

SQLITE_UNINSTALL = [
    "DROP TRIGGER IF EXISTS audit_auditevent_no_update",
    "DROP TRIGGER IF EXISTS audit_auditevent_no_delete",
]


def _run(schema_editor, postgresql, sqlite):
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"append-only triggers for {vendor}")
    with schema_editor.connection.cursor() as cursor:  # no parameters: the PL/pgSQL holds a literal %
        for statement in postgresql if vendor == "postgresql" else sqlite:
            cursor.execute(statement)


def install(apps, schema_editor):
    _run(schema_editor, POSTGRESQL_INSTALL, SQLITE_INSTALL)


def uninstall(apps, schema_editor):
    _run(schema_editor, POSTGRESQL_UNINSTALL, SQLITE_UNINSTALL)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
