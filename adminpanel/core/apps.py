"""Small shared pieces: environment parsing, masking, middleware, health checks."""

from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "adminpanel.core"
    label = "core"

    def ready(self) -> None:
        from adminpanel.core import checks  # noqa: F401  (registers the deployment checks)
