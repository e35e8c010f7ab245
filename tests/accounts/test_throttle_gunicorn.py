"""The sign-in limit is shared by every worker: gunicorn with two workers, production settings, the database
cache; failed attempts served by both workers add up, and the right password is then refused with 429."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a-long-staff-password-for-gunicorn"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def database_url(tmp_path) -> Iterator[str]:
    """A scratch database of the kind the suite runs on: a SQLite file, or a new PostgreSQL database."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'gunicorn.sqlite3'}"
        return
    base, _, _ = url.rpartition("/")
    name = f"gunicorn_throttle_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def production_env(request, tmp_path, database_url) -> dict[str, str]:
    ours = ("DJANGO_", "AUTHSIGNAL_", "AUDIT_", "EMULATOR_", "APP_", "STAFF_", "OIDC_", "REDIS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.live_settings",
        DJANGO_SECRET_KEY="gunicorn-test-" + "k" * 40,
        AUDIT_CHAIN_KEY="gunicorn-test-chain-key",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        # Plain HTTP on loopback: no TLS redirect, cookies without the Secure flag.
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SESSION_COOKIE_SECURE="0",
        DJANGO_CSRF_COOKIE_SECURE="0",
        DATABASE_URL=database_url,
        APP_VAR_DIR=str(tmp_path / "var"),
    )
    env.update(getattr(request, "param", {}))
    return env


def manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def gunicorn(production_env, tmp_path) -> Iterator[tuple[str, Path]]:
    manage(production_env, "migrate", "--noinput")
    create = (
        f"from django.contrib.auth.models import User; User.objects.create_user('sam.support', password='{PASSWORD}')"
    )
    manage(production_env, "shell", "-c", create)
    port = free_port()
    log = tmp_path / "access.log"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "adminpanel.wsgi",
            "--bind", f"127.0.0.1:{port}", "--workers", "2",
            "--access-logfile", str(log), "--access-logformat", "%(p)s %(m)s %(U)s %(s)s",
        ],
        cwd=ROOT,
        env=production_env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "gunicorn did not start"
            time.sleep(0.2)
        yield base, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def attempt(base: str, password: str) -> int:
    """One sign-in from a fresh browser (new connection, new cookies), as a guessing loop would do."""
    with httpx.Client(base_url=base, timeout=20) as browser:
        page = browser.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        answer = browser.post(
            "/login/",
            data={"csrfmiddlewaretoken": token, "login": "sam.support", "password": password},
            headers={"Referer": f"{base}/login/"},
        )
        return answer.status_code


def five_failures_then_the_right_password(base: str, log: Path) -> int:
    with ThreadPoolExecutor(max_workers=2) as pool:  # two at a time, so both workers take some
        failures = list(pool.map(lambda _: attempt(base, "not-the-password"), range(5)))
    assert failures == [200] * 5
    served = [line.split() for line in log.read_text().splitlines() if " POST /login/ " in f" {line} "]
    pids_of_failures = {pid for pid, _, _, status in served if status == "200"}
    assert len(pids_of_failures) == 2, f"both workers must have served failed attempts: {served}"
    return attempt(base, PASSWORD)


def test_two_workers_share_the_failed_sign_in_limit(gunicorn):
    assert five_failures_then_the_right_password(*gunicorn) == 429


@pytest.mark.parametrize("production_env", [{"GUNICORN_TEST_CACHE": "per-process"}], indirect=True)
def test_without_a_shared_cache_the_same_attempts_get_through(gunicorn):
    """Proof that the test above measures the shared cache: per-process limits let the guessing loop in."""
    assert five_failures_then_the_right_password(*gunicorn) == 302
