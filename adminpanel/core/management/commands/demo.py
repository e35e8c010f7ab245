"""Start the demo: migrate, seed the emulator, create a staff account per role, print them, serve
(with a background worker for verification and large exports next to the server)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from adminpanel.accounts.roles import AUDITOR, SECURITY, SUPPORT

DEMO_ACCOUNTS = [
    # username, password, role (None = superuser for /admin/)
    ("support", "support-demo-pass", SUPPORT),
    ("security", "security-demo-pass", SECURITY),
    ("auditor", "auditor-demo-pass", AUDITOR),
    ("admin", "admin-demo-pass", None),
]
# A person's name per account, so the header reads "Sam Okafor · Support", not "support Support".
DEMO_NAMES = {
    "support": ("Sam", "Okafor"),
    "security": ("Priya", "Shah"),
    "auditor": ("Ada", "Lindqvist"),
    "admin": ("Alex", "Admin"),
}


class Command(BaseCommand):
    help = "Run the dashboard on the embedded defaults (SQLite + emulator) with demo data and demo staff."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="Prepare everything but do not run the server.")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Start the walkthrough again: delete the demo's databases (dashboard and emulator) and seed afresh.",
        )
        parser.add_argument(
            "--mfa",
            action="store_true",
            help="Require a second factor, as in production (off by default so the demo logins work with a password).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_production()
        if options["reset"]:
            self.stdout.write(reset_demo())
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        self.stdout.write(seed_emulator())
        self.stdout.write("Demo staff accounts (username, password):")
        for username, password in ensure_demo_accounts():
            self.stdout.write(f"  {username:<10} {password}")
        if options["mfa"]:
            settings.STAFF_MFA_REQUIRED = True  # runserver below runs in this process
            self.stdout.write("Second factor required: each account registers a passkey or an app at first sign-in.")
        else:
            self.stdout.write("Second factor optional (demo): add one from the account menu; `demo --mfa` requires it.")
        if not options["no_serve"]:
            self.stdout.write(
                self.style.SUCCESS(f"Open http://{options['addrport']}/ and sign in with an account above.")
            )
            worker = start_worker()
            self.stdout.write("Background worker started (manage.py db_worker; it stops with the demo).")
            try:
                call_command("runserver", options["addrport"], use_reloader=False)
            finally:
                stop_worker(worker)


def start_worker() -> subprocess.Popen[bytes]:
    """`manage.py db_worker` as a child process; SIGTERM to the demo now unwinds (and stops it) like Ctrl-C."""

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    # No autoreloader: it would fork a grandchild that outlives terminate().
    return subprocess.Popen(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "db_worker", "--no-reload", "--interval", "1"]
    )


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def refuse_production() -> None:
    """Demo accounts with known passwords must never reach a real tenant or a production deployment."""
    if not settings.DEBUG:
        raise CommandError("Refusing to create demo accounts: DJANGO_DEBUG is off (production configuration).")
    if not settings.AUTHSIGNAL_USE_EMULATOR:
        raise CommandError("Refusing to create demo accounts: AUTHSIGNAL_SECRET_KEY is set (a real Authsignal tenant).")


def reset_demo() -> str:
    """Deletes the demo's own SQLite files (never anything else: a PostgreSQL database is refused)."""
    from django.db import connections

    from adminpanel.authsignal.connection import reset_client

    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        raise CommandError("--reset only deletes the demo's SQLite files; DATABASE_URL points elsewhere.")
    connections.close_all()
    reset_client()
    removed = []
    for name in (str(database["NAME"]), str(settings.EMULATOR_STORAGE)):
        if name == ":memory:":
            continue
        for path in (Path(name), Path(f"{name}-wal"), Path(f"{name}-shm")):
            if path.exists():
                path.unlink()
                removed.append(path.name)
    return f"Demo reset: removed {', '.join(removed) or 'nothing (no demo data yet)'}."


def seed_emulator() -> str:
    from adminpanel.authsignal.connection import get_emulator

    emulator = get_emulator()
    assert emulator is not None  # refuse_production() guarantees emulator mode
    if emulator.store.user_count():
        return f"Emulator already holds {emulator.store.user_count()} users ({settings.EMULATOR_STORAGE})."
    emulator.seed_demo()
    return f"Emulator seeded with {emulator.store.user_count()} demo users ({settings.EMULATOR_STORAGE})."


def ensure_demo_accounts() -> list[tuple[str, str]]:
    User = get_user_model()
    printed = []
    for username, password, role in DEMO_ACCOUNTS:
        user, _ = User.objects.get_or_create(username=username)
        user.first_name, user.last_name = DEMO_NAMES[username]
        user.set_password(password)
        user.is_superuser = user.is_staff = role is None
        user.save()
        if role:
            user.groups.set([Group.objects.get(name=role)])
        printed.append((username + ("" if role else " (superuser, /admin/)"), password))
    return printed
