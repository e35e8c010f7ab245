"""The tamper-evident, append-only audit log of every staff action."""

from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "adminpanel.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from adminpanel.audit import signals  # noqa: F401  (connects the sign-in/out receivers)
