"""Test helpers for the audit log: bypass the append-only triggers (to tamper, or to empty the log)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from adminpanel.audit import triggers


@contextmanager
def triggers_bypassed() -> Iterator[None]:
    """PostgreSQL: replica mode skips ordinary triggers (superuser only). SQLite: drop and reinstall them."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")
    else:
        triggers.uninstall(connection)
        try:
            yield
        finally:
            triggers.install(connection)


def raw(sql: str, params: list[object] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def tamper(sql: str, params: list[object] | None = None) -> None:
    with triggers_bypassed():
        raw(sql, params)


def purge_audit_log() -> None:
    """Empties the audit table so a transactional test's flush can run (flush never deletes audit rows)."""
    tamper(f"DELETE FROM {triggers.TABLE}")
