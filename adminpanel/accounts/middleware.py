"""Staff sessions: idle and absolute timeouts, and no page but the registration one until a second factor is done."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from adminpanel.accounts import second_factor
from adminpanel.audit.services import SUCCEEDED, Action, record

STARTED_KEY = "staff_session_started"
SEEN_KEY = "staff_session_seen"
# The last-seen time is written at most this often, so that most requests do not rewrite the session.
SEEN_RESOLUTION_SECONDS = 30

# Paths a signed-in staff member may reach before a second factor is done (besides these URL names: static files).
REGISTRATION_URL_NAMES = (
    "logout",
    "account_logout",
    "account_reauthenticate",
    "mfa_index",
    "mfa_activate_totp",
    "mfa_add_webauthn",
    "mfa_view_recovery_codes",
    "mfa_download_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_reauthenticate",
    "mfa_reauthenticate_webauthn",
    "healthz",
    "readyz",
)


def _client_redirect(request: HttpRequest, url: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


class StaffSessionTimeoutMiddleware:
    """Ends a staff session after STAFF_IDLE_TIMEOUT_SECONDS without a request, or SESSION_COOKIE_AGE after sign-in.

    The staff member is told why on the sign-in page, and an htmx request redirects the whole page instead of
    swapping the sign-in form into a fragment.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            session = request.session
            started = session.setdefault(STARTED_KEY, now)
            seen = session.get(SEEN_KEY, now)
            reason = ""
            if now - started > settings.SESSION_COOKIE_AGE:
                reason = "absolute"
            elif now - seen > settings.STAFF_IDLE_TIMEOUT_SECONDS:
                reason = "idle"
            if reason:
                return self._expire(request, reason, now - seen)
            if now - seen >= SEEN_RESOLUTION_SECONDS or SEEN_KEY not in session:
                session[SEEN_KEY] = now
        return self.get_response(request)

    def _expire(self, request: HttpRequest, reason: str, idle_seconds: float) -> HttpResponse:
        record(
            Action.STAFF_SESSION_EXPIRE,
            SUCCEEDED,
            request=request,
            details={"reason": reason, "idle_seconds": int(idle_seconds)},
        )
        logout(request)
        if reason == "idle":
            minutes = max(1, settings.STAFF_IDLE_TIMEOUT_SECONDS // 60)
            unit = "minute" if minutes == 1 else "minutes"
            text = f"Your session ended after {minutes} {unit} without activity. Sign in again to continue."
        else:
            hours = max(1, settings.SESSION_COOKIE_AGE // 3600)
            text = f"Your session ended: sessions last at most {hours} hours. Sign in again to continue."
        messages.warning(request, text)
        url = reverse("login")
        if request.method == "GET" and not getattr(request, "htmx", False):
            url += "?" + urlencode({"next": request.get_full_path()})
        return _client_redirect(request, url)


class SecondFactorRequiredMiddleware:
    """With STAFF_MFA_REQUIRED, a signed-in staff member without a passed second factor sees only its registration."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._allowed: frozenset[str] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            settings.STAFF_MFA_REQUIRED
            and user is not None
            and user.is_authenticated
            and second_factor.passed(request) is None
            and not self._is_allowed(request.path)
        ):
            return _client_redirect(request, reverse("mfa_index"))
        return self.get_response(request)

    def _is_allowed(self, path: str) -> bool:
        if self._allowed is None:
            self._allowed = frozenset(reverse(name) for name in REGISTRATION_URL_NAMES)
        return path in self._allowed or path.startswith("/" + settings.STATIC_URL.lstrip("/"))
