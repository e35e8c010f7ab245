"""Migrations are frozen: they do not import live app code, so changing the code never changes a migration."""

from __future__ import annotations

import ast
from pathlib import Path

from adminpanel.audit import triggers

MIGRATIONS = sorted(Path(__file__).resolve().parents[2].glob("adminpanel/*/migrations/0*.py"))


def test_no_migration_imports_the_apps_code():
    for path in MIGRATIONS:
        tree = ast.parse(path.read_text())
        imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)] + [
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        ]
        assert not [name for name in imported if name.startswith("adminpanel")], path


def test_the_frozen_trigger_sql_is_what_the_code_installs_today():
    """If triggers.py changes, a new migration must install the change; 0002 stays as it was."""
    import importlib

    frozen = importlib.import_module("adminpanel.audit.migrations.0002_append_only")
    assert frozen.POSTGRESQL_INSTALL == triggers.POSTGRESQL_INSTALL
    assert frozen.SQLITE_INSTALL == triggers.SQLITE_INSTALL
