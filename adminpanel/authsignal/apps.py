"""Django app for the Authsignal client and its emulator."""

from __future__ import annotations

from django.apps import AppConfig


class AuthsignalConfig(AppConfig):
    name = "adminpanel.authsignal"
    label = "authsignal"
    verbose_name = "Authsignal"
