"""Liveness and readiness probes for the load balancer and orchestrator."""

from __future__ import annotations

import logging
import time

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from adminpanel.authsignal.connection import get_client
from adminpanel.authsignal.errors import AuthsignalError

logger = logging.getLogger(__name__)


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@login_not_required
@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:  # any driver error means "not ready"
        logger.exception("readiness: the database is not reachable")
        checks["database"] = "error"
    checks["authsignal"] = _authsignal_status()
    ready = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


_AUTHSIGNAL_CHECK_SECONDS = 10.0
_last_authsignal_check: tuple[float, str] = (-_AUTHSIGNAL_CHECK_SECONDS, "")


def _authsignal_status() -> str:
    """ "ok" or "error", asked of Authsignal at most every few seconds: the probe is public and must not spend
    the tenant's rate limit, and the reason goes to the log, not to whoever asks."""
    global _last_authsignal_check
    checked_at, status = _last_authsignal_check
    if time.monotonic() - checked_at < _AUTHSIGNAL_CHECK_SECONDS:
        return status
    try:
        get_client().ping()
        status = "ok"
    except AuthsignalError as exc:
        logger.warning("readiness: Authsignal is not usable: %s", exc)
        status = "error"
    _last_authsignal_check = (time.monotonic(), status)
    return status


def forget_authsignal_status() -> None:
    """For tests and after a configuration change: the next probe asks Authsignal again."""
    global _last_authsignal_check
    _last_authsignal_check = (-_AUTHSIGNAL_CHECK_SECONDS, "")
