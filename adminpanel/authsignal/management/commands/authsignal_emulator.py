"""`manage.py authsignal_emulator`: serve the Authsignal emulator over HTTP for SDKs, staging, load tests."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from adminpanel.authsignal.emulator import EmulatorApp, EmulatorHTTPServer, EmulatorStore


class Command(BaseCommand):
    help = "Serve the built-in Authsignal emulator over HTTP (point AUTHSIGNAL_API_URL or any SDK at it)."
    # The emulator uses no Django models; don't let an unrelated check error stop it from starting.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8025, help="port (default 8025; 0 picks a free one)")
        parser.add_argument(
            "--secret-key",
            help="the Basic-auth username clients must send (default settings.EMULATOR_SECRET_KEY)",
        )
        storage = parser.add_mutually_exclusive_group()
        storage.add_argument("--storage", help="SQLite file (default settings.EMULATOR_STORAGE)")
        storage.add_argument("--in-memory", action="store_true", help="keep data in memory only")
        parser.add_argument("--seed", choices=["demo"], help="load the demo data set if the store is empty")
        parser.add_argument("--quiet", action="store_true", help="don't log each request")

    def handle(self, *args: Any, **options: Any) -> None:
        path = ":memory:" if options["in_memory"] else (options["storage"] or settings.EMULATOR_STORAGE or ":memory:")
        secret_key = options["secret_key"] or settings.EMULATOR_SECRET_KEY
        store = EmulatorStore(path)
        app = EmulatorApp(store, secret_key)
        if options["seed"] == "demo":
            if store.is_empty():
                self.stdout.write(f"Seeded the demo data set: {app.seed_demo()} users.")
            else:
                self.stdout.write(f"Not seeding: the store already holds {store.user_count()} users.")
        server = EmulatorHTTPServer(app, options["host"], options["port"], log_requests=not options["quiet"])
        self.stdout.write(f"Authsignal emulator at {server.base_url}")
        self.stdout.write(f"Storage: {path}. Secret key: the Basic-auth username (see --secret-key). Ctrl-C stops.")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
            store.close()
