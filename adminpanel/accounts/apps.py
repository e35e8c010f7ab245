"""Staff accounts: roles (groups + permissions) and sign-in (django-allauth: second factors, step-up, SSO)."""

from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "adminpanel.accounts"
    label = "accounts"

    def ready(self) -> None:
        from adminpanel.accounts import audit_trail, checks, signals  # noqa: F401  (checks and audit receivers)

        audit_trail.connect()
