"""Production settings pass the deploy checks; the demo command works from a fresh copy and refuses production."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    ours = ("DJANGO_", "AUTHSIGNAL_", "AUDIT_", "EMULATOR_", "APP_")
    base = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    base.pop("DATABASE_URL", None)
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=cwd, env=base, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "adminpanel.settings",
    "DJANGO_SECRET_KEY": "k3y-" + "q8Zr1pL0xV7mN2bT5wY9" * 3,
    "DJANGO_ALLOWED_HOSTS": "admin.example.com",
    "AUDIT_CHAIN_KEY": "a-long-random-chain-key",
    "AUTHSIGNAL_SECRET_KEY": "sk_live_dummy",
}


def test_production_settings_pass_check_deploy_with_no_warnings(tmp_path):
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", APP_VAR_DIR=str(tmp_path), **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_warns_when_production_would_talk_to_the_emulator(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != "AUTHSIGNAL_SECRET_KEY"}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", APP_VAR_DIR=str(tmp_path), **env)
    assert result.returncode != 0
    assert "adminpanel.W001" in result.stderr + result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    result = run_manage("check", APP_VAR_DIR=str(tmp_path), **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def fresh_copy(dest: Path) -> Path:
    """The files a fresh clone would have (tracked and new, minus ignored): no var/, no venv."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def test_demo_command_prepares_a_fresh_copy_and_prints_the_accounts(tmp_path):
    copy = fresh_copy(tmp_path / "clone")
    result = run_manage("demo", "--no-serve", cwd=copy)
    assert result.returncode == 0, result.stdout + result.stderr
    for username in ("support", "security", "auditor", "admin"):
        assert f"  {username}" in result.stdout
    assert "Emulator seeded with" in result.stdout
    assert (copy / "var" / "adminpanel.sqlite3").exists()
    assert (copy / "var" / "emulator.sqlite3").exists()
    again = run_manage("demo", "--no-serve", cwd=copy)
    assert again.returncode == 0, again.stderr
    assert "Emulator already holds" in again.stdout
    # Change something in the emulator, then start the walkthrough again: the demo data is back as it was.
    (copy / "var" / "marker").write_text("kept")
    with sqlite3.connect(copy / "var" / "emulator.sqlite3") as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        db.execute(f"DELETE FROM {'authenticators' if 'authenticators' in tables else tables[0]}")
    reset = run_manage("demo", "--no-serve", "--reset", cwd=copy)
    assert reset.returncode == 0, reset.stderr
    assert "Demo reset: removed adminpanel.sqlite3" in reset.stdout and "Emulator seeded with" in reset.stdout
    assert (copy / "var" / "marker").exists()  # only the demo's databases are deleted


@pytest.mark.parametrize(
    ("env", "why"),
    [
        ({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "x" * 50, "AUDIT_CHAIN_KEY": "k"}, "DJANGO_DEBUG is off"),
        ({"AUTHSIGNAL_SECRET_KEY": "sk_live_dummy"}, "AUTHSIGNAL_SECRET_KEY is set"),
    ],
)
def test_demo_command_refuses_a_production_configuration(tmp_path, env, why):
    result = run_manage("demo", "--no-serve", APP_VAR_DIR=str(tmp_path), **env)
    assert result.returncode != 0
    assert why in result.stderr
    database = tmp_path / "adminpanel.sqlite3"  # system checks may open it, but nothing is written
    if database.exists():
        with sqlite3.connect(database) as db:
            assert db.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
    assert not (tmp_path / "emulator.sqlite3").exists()
