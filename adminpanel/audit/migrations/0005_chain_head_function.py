"""PostgreSQL: take the chain-head lock and read the head in one round trip (audit_lock_chain_head).

A plain `SELECT pg_advisory_xact_lock(…), head…` would read the head with the statement's snapshot, taken before
the lock was granted, and miss an event committed while it waited. Inside a VOLATILE PL/pgSQL function each
statement takes a fresh snapshot in READ COMMITTED, so the head is read after the lock: one call instead of
SET LOCAL + lock + SELECT. SQLite needs nothing (its IMMEDIATE transaction already holds the write lock).
"""

from __future__ import annotations

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_lock_chain_head(lock_key bigint, rotated_action text)
RETURNS TABLE (seq bigint, hash varchar, created_at timestamptz, key_id text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('lock_timeout', '15s', true);
    PERFORM pg_advisory_xact_lock(lock_key);
    RETURN QUERY
        SELECT e.seq, e.hash, e.created_at,
               (SELECT r.details ->> 'key_id' FROM audit_auditevent r
                 WHERE r.action = rotated_action AND r.outcome = 'succeeded'
                 ORDER BY r.seq DESC LIMIT 1)
          FROM audit_auditevent e
         ORDER BY e.seq DESC
         LIMIT 1;
END;
$$
"""
DROP = "DROP FUNCTION IF EXISTS audit_lock_chain_head(bigint, text)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_background_work")]
    operations = [migrations.RunPython(create, drop)]
