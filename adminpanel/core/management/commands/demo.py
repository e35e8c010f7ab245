"""Start the demo: migrate, seed the emulator, create a staff account per role, print them, serve."""

from __future__ import annotations

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


class Command(BaseCommand):
    help = "Run the dashboard on the embedded defaults (SQLite + emulator) with demo data and demo staff."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="Prepare everything but do not run the server.")

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_production()
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        self.stdout.write(seed_emulator())
        self.stdout.write("Demo staff accounts (username, password):")
        for username, password in ensure_demo_accounts():
            self.stdout.write(f"  {username:<10} {password}")
        if not options["no_serve"]:
            self.stdout.write(
                self.style.SUCCESS(f"Open http://{options['addrport']}/ and sign in with an account above.")
            )
            call_command("runserver", options["addrport"], use_reloader=False)


def refuse_production() -> None:
    """Demo accounts with known passwords must never reach a real tenant or a production deployment."""
    if not settings.DEBUG:
        raise CommandError("Refusing to create demo accounts: DJANGO_DEBUG is off (production configuration).")
    if not settings.AUTHSIGNAL_USE_EMULATOR:
        raise CommandError("Refusing to create demo accounts: AUTHSIGNAL_SECRET_KEY is set (a real Authsignal tenant).")


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
        user.set_password(password)
        user.is_superuser = user.is_staff = role is None
        user.save()
        if role:
            user.groups.set([Group.objects.get(name=role)])
        printed.append((username + ("" if role else " (superuser, /admin/)"), password))
    return printed
