"""Helpers shared by the test packages: staff sign-in, users in the emulator, the audit log, a real gunicorn."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.db import connection
from django.test import Client

from adminpanel.accounts import second_factor
from adminpanel.audit import triggers
from adminpanel.audit.models import AuditEvent
from adminpanel.authsignal.connection import get_client

ROOT = Path(__file__).resolve().parent.parent
HTMX = {"HX-Request": "true"}


# --- staff signing in: a password, a TOTP code computed here (RFC 6238), or straight in ---


PASSWORD = "correct horse battery staple"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp_code(secret: str, at: float | None = None, period: int = 30) -> str:
    """The six-digit code an authenticator app shows for `secret` (RFC 6238, SHA-1), computed without allauth."""
    counter = int((time.time() if at is None else at) // period)
    digest = hmac.new(base64.b32decode(secret, casefold=True), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def give_totp(user, secret: str = SECRET) -> Authenticator:
    """An authenticator app registered for `user` (as if done on the registration page earlier)."""
    return TOTP.activate(user, secret).instance


def sign_in_password(client: Client, username: str, password: str = PASSWORD, **extra):  # type: ignore[no-untyped-def]
    return client.post("/login/", {"login": username, "password": password}, **extra)


def sign_in_with_second_factor(client: Client, user) -> Client:  # type: ignore[no-untyped-def]
    """force_login plus the session's "second factor passed" mark: what a full sign-in leaves behind."""
    client.force_login(user)
    session = client.session
    session[second_factor.SESSION_KEY] = {"user": str(user.pk), "via": "totp", "at": time.time()}
    session.save()
    return client


def step_up_with_totp(client: Client, user, secret: str = SECRET):  # type: ignore[no-untyped-def]
    """A real step-up: the staff member confirms with an app code on allauth's reauthentication page."""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        give_totp(user, secret)
    response = client.post("/account/reauthenticate/", {"code": totp_code(secret)})
    assert response.status_code == 302, response
    return response


# --- end-users in the emulator, and what the audit log says about them ---


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_user(
    user_id: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    username: str | None = None,
    sms: tuple[str, ...] = (),
    emails: tuple[str, ...] = (),
    passkeys: tuple[str, ...] = (),
) -> list:
    """Creates a user and its authenticators the way an integrator would; returns the authenticators."""
    client = get_client()
    fields = {k: v for k, v in {"email": email, "phone_number": phone, "username": username}.items() if v}
    if fields:
        client.update_user(user_id, **fields)
    for number in sms:
        client.enroll_verified_authenticator(user_id, verification_method="SMS", phone_number=number)
    for address in emails:
        client.enroll_verified_authenticator(user_id, verification_method="EMAIL_OTP", email=address)
    for name in passkeys:
        client.enroll_verified_authenticator(
            user_id,
            verification_method="PASSKEY",
            credential_id=b64url(os.urandom(16)),
            credential_public_key=b64url(os.urandom(65)),
            name=name,
        )
    return client.get_authenticators(user_id)


@contextmanager
def on_each_request(hook: Callable[[httpx.Request], None]) -> Iterator[None]:
    """Calls `hook` before each request the shared Authsignal client sends (to inject faults at the right moment)."""
    hooks = get_client()._http.event_hooks["request"]
    hooks.append(hook)
    try:
        yield
    finally:
        hooks.remove(hook)


def events(action: str | None = None, **filters) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    qs = AuditEvent.objects.order_by("seq")
    if action:
        qs = qs.filter(action=action)
    return list(qs.filter(**filters))


def outcomes(action: str, **filters) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.outcome for e in events(action, **filters)]


# --- the audit log behind its guards (to tamper, or to empty it) ---


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


# --- a real dashboard process ---


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """The URL of the database this test runs on (the test database, not the configured one)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def production_env(**extra: str) -> dict[str, str]:
    """The environment of a production process talking to the test database, over plain HTTP on loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AUTHSIGNAL_", "AUDIT_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.live_settings",
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        AUDIT_CHAIN_KEY=settings.AUDIT_CHAIN_KEY.decode(),
        DATABASE_URL=test_database_url(),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SESSION_COOKIE_SECURE="0",
        DJANGO_CSRF_COOKIE_SECURE="0",
        DJANGO_SECURE_HSTS_SECONDS="0",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class Dashboard:
    """A gunicorn process serving the dashboard; its output (error and access logs) goes to `log_path`."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    clients: list[httpx.Client] = field(default_factory=list)

    def client_for(self, user: object) -> StaffSession:
        """An HTTP client signed in as `user` (a session made the way Django's test client makes one)."""
        django_client = sign_in_with_second_factor(Client(), user)
        http = httpx.Client(base_url=self.base_url, timeout=30, follow_redirects=False)
        http.cookies.set(settings.SESSION_COOKIE_NAME, django_client.cookies[settings.SESSION_COOKIE_NAME].value)
        self.clients.append(http)
        return StaffSession(http)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group (arbiter and workers): nothing gets to clean up."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@dataclass
class StaffSession:
    http: httpx.Client
    csrf_token: str = ""

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        response = self.http.get(path, **kwargs)  # type: ignore[arg-type]
        found = re.search(r'"X-CSRFToken": "([^"]+)"', response.text)
        if found:
            self.csrf_token = found.group(1)
        return response

    def post(self, path: str, data: dict[str, str], **kwargs: object) -> httpx.Response:
        if not self.csrf_token:
            self.get("/")
        headers = {"X-CSRFToken": self.csrf_token, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        return self.http.post(path, data=data, headers=headers, **kwargs)  # type: ignore[arg-type]


@contextmanager
def running_dashboard(env: dict[str, str], tmp_path: Path, *, workers: int = 1) -> Iterator[Dashboard]:
    """gunicorn with the project's gunicorn.conf.py, in its own process group so a test can SIGKILL all of it."""
    _production_cache_table()
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "adminpanel.wsgi",
                "--config",
                str(ROOT / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--access-logfile",
                "-",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    dashboard = Dashboard(process, f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_until_up(dashboard)
        yield dashboard
    finally:
        for http in dashboard.clients:
            http.close()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                dashboard.kill()


def _production_cache_table() -> None:
    """The test database was migrated with the tests' in-memory cache; production shares a database cache."""
    from django.core.management import call_command
    from django.test import override_settings

    database_cache = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "adminpanel_cache"}
    with override_settings(CACHES={"default": database_cache}):
        call_command("createcachetable", verbosity=0)


def _wait_until_up(dashboard: Dashboard, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if dashboard.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {dashboard.process.returncode}:\n{dashboard.log()}")
        try:
            if httpx.get(f"{dashboard.base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer /healthz within {timeout}s:\n{dashboard.log()}")
