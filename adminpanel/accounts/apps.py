"""Staff accounts: roles (groups + permissions) and sign-in."""

from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "adminpanel.accounts"
    label = "accounts"

    def ready(self) -> None:
        from adminpanel.accounts import audit_trail

        audit_trail.connect()
