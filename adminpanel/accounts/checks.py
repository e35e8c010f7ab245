"""Deployment checks for staff sign-in: the second factor is required and the rate-limit cache is shared."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

SHARED_CACHES = ("django.core.cache.backends.db.DatabaseCache", "django.core.cache.backends.redis.RedisCache")


@register(Tags.security, deploy=True)
def check_second_factor_required(app_configs: Any, **kwargs: Any) -> list[Warning]:
    warnings = []
    if not settings.STAFF_MFA_REQUIRED:
        warnings.append(
            Warning(
                "STAFF_MFA_REQUIRED is off: staff can sign in with a password alone.",
                hint="Leave STAFF_MFA_REQUIRED unset (on) in production.",
                id="adminpanel.W101",
            )
        )
    if settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN:
        warnings.append(
            Warning(
                "MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN is on: passkeys are accepted from any origin.",
                hint="It is for tests on http://localhost only.",
                id="adminpanel.W102",
            )
        )
    if settings.CACHES["default"]["BACKEND"] not in SHARED_CACHES:
        warnings.append(
            Warning(
                "The default cache is not shared by all workers: sign-in rate limits would be per process.",
                hint="Use the database cache (the default) or REDIS_URL.",
                id="adminpanel.W103",
            )
        )
    return warnings


@register()
def check_sso_role_map(app_configs: Any, **kwargs: Any) -> list[Error]:
    from adminpanel.accounts.sso import role_map

    try:
        role_map()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="adminpanel.E101")]
    return []
