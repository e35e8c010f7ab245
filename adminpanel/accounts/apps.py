"""Staff accounts: roles (groups + permissions) and sign-in."""

from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "adminpanel.accounts"
    label = "accounts"
