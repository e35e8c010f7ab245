"""A backup restores into a fresh database that verifies against an earlier checkpoint and stays append-only.

PostgreSQL: pg_dump, then pg_restore into a new database, as README's commands do. SQLite: the same proof
with SQLite's online backup API. Each run proves its own backend's way.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from adminpanel.audit.services import SUCCEEDED, record

ROOT = Path(__file__).resolve().parents[2]
T = "audit_auditevent"


def manage(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="tests.settings")
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_a_restored_backup_verifies_against_the_checkpoint_and_refuses_changes(audit_log_flushable, tmp_path):
    for i in range(40):
        record("user.view", SUCCEEDED, user_id=f"u{i}", reason=f"before the backup {i}")
    checkpoint = tmp_path / "head.json"
    call_command("audit", "checkpoint", "--output", str(checkpoint))
    assert json.loads(checkpoint.read_text())["seq"] == 40
    postgresql = connection.vendor == "postgresql"
    target = f"{connection.settings_dict['NAME']}_restored"
    try:
        restored_url, refused = restore_postgresql(tmp_path, target) if postgresql else restore_sqlite(tmp_path)
        result = manage("audit", "verify", "--checkpoint", str(checkpoint), database_url=restored_url)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.startswith("OK: 40 events, chain intact, head seq 40")
        # The triggers came with the backup (SQLite has no TRUNCATE).
        expected = ["UPDATE", "DELETE", "TRUNCATE"] if postgresql else ["UPDATE", "DELETE"]
        assert refused() == expected
    finally:
        if postgresql:
            drop_database(_pg(connection.settings_dict, target)[0])


# --- PostgreSQL: pg_dump / pg_restore ---


def _pg(settings: dict, name: str) -> tuple[str, dict[str, str]]:
    host, port, user = settings["HOST"] or "127.0.0.1", str(settings["PORT"] or 5432), settings["USER"] or "postgres"
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    return f"postgres://{user}@{host}:{port}/{name}", {**env, "PGHOST": host, "PGPORT": port, "PGUSER": user}


def restore_postgresql(tmp_path: Path, target: str):  # type: ignore[no-untyped-def]
    settings = connection.settings_dict
    source = settings["NAME"]
    _, env = _pg(settings, source)
    dump = tmp_path / "adminpanel.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", source], env=env, check=True, timeout=120)
    subprocess.run(["psql", "-q", "-c", f'DROP DATABASE IF EXISTS "{target}"', "postgres"], env=env, check=True)
    subprocess.run(["createdb", target], env=env, check=True, timeout=60)
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={target}", str(dump)], env=env, check=True
    )
    url, _ = _pg(settings, target)

    def refused() -> list[str]:
        kinds = []
        for statement in (
            f"UPDATE {T} SET reason = 'x' WHERE seq = 1",
            f"DELETE FROM {T} WHERE seq = 40",
            f"TRUNCATE {T}",
        ):
            with psycopg.connect(url, autocommit=True) as conn, pytest.raises(psycopg.Error, match="append-only"):
                conn.execute(statement)
            kinds.append(statement.split()[0])
        with psycopg.connect(url) as conn:
            assert conn.execute(f"SELECT count(*) FROM {T}").fetchone()[0] >= 40
        return kinds

    return url, refused


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- SQLite: the online backup API ---


def restore_sqlite(tmp_path: Path):  # type: ignore[no-untyped-def]
    copy = tmp_path / "restored.sqlite3"
    with sqlite3.connect(connection.settings_dict["NAME"]) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    source.close()

    def refused() -> list[str]:
        kinds = []
        with sqlite3.connect(copy) as db:
            for statement in (f"UPDATE {T} SET reason = 'x' WHERE seq = 1", f"DELETE FROM {T} WHERE seq = 40"):
                with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                    db.execute(statement)
                kinds.append(statement.split()[0])
            assert db.execute(f"SELECT count(*) FROM {T}").fetchone()[0] >= 40
        return kinds

    return f"sqlite:///{copy}", refused
