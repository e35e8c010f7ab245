"""Deployment checks (`manage.py check --deploy`) for mistakes Django's own checks cannot know about."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_authsignal_target(app_configs: Any, **kwargs: Any) -> list[Warning]:
    if settings.AUTHSIGNAL_USE_EMULATOR:
        return [
            Warning(
                "AUTHSIGNAL_SECRET_KEY is not set, so the dashboard talks to the built-in emulator, not Authsignal.",
                hint="Set AUTHSIGNAL_SECRET_KEY and AUTHSIGNAL_REGION (or AUTHSIGNAL_API_URL).",
                id="adminpanel.W001",
            )
        ]
    return []
