"""`manage.py cleanup`: the periodic housekeeping no page should do on the way (run it every few minutes)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from adminpanel.audit import background
from adminpanel.directory import confirmations, locks


class Command(BaseCommand):
    help = (
        "Release background work lost with its worker, delete prepared exports older than 7 days, forget spent "
        "removal confirmations and expired lock leases. Safe to run at any time and as often as you like."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        background.release_abandoned_verifications()
        background.release_abandoned_exports()
        exports, files = background.purge_exports()
        spent = confirmations.purge_spent()
        leases = locks.purge_expired_leases()
        self.stdout.write(
            f"cleanup: {exports} prepared exports expired ({files} files deleted), "
            f"{spent} spent confirmations and {leases} expired leases forgotten"
        )
