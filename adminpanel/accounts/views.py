"""allauth's sign-in views with honest answers: a throttled attempt is a recorded 429, even with the right secret."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account import views as account_views
from allauth.mfa.base import views as mfa_views
from allauth.mfa.webauthn import views as webauthn_views
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from adminpanel.audit.services import DENIED, FAILED, Action, record

THROTTLED_CODE = "too_many_login_attempts"

View = Callable[..., HttpResponse]


def _throttled_form(response: HttpResponse) -> Any:
    """The form on this page that allauth refused with its rate-limit error, if any."""
    context = getattr(response, "context_data", None) or {}
    for key in ("form", "webauthn_form"):
        form = context.get(key)
        if form is None or not form.is_bound or not hasattr(form, "_errors") or form._errors is None:
            continue
        if any(error.code == THROTTLED_CODE for errors in form.errors.as_data().values() for error in errors):
            return form
    return None


def _refused_passkey(response: HttpResponse) -> Any:
    """The staff member whose posted passkey answer allauth refused on this page, if any."""
    form = (getattr(response, "context_data", None) or {}).get("webauthn_form")
    if form is None or not form.is_bound or getattr(form, "_errors", None) is None or not form.errors:
        return None
    return form.user


def answers_429_when_throttled(action: str, step: str) -> Callable[[View], View]:
    """Wraps an allauth view: its rate-limit refusal keeps the page and its message, with status 429, audited."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = view(request, *args, **kwargs)
            if request.method != "POST":
                return response
            form = _throttled_form(response)
            if form is not None:
                response.status_code = 429
                actor = getattr(form, "user", None)
                details: dict[str, Any] = {"refused": "throttled", "step": step}
                if actor is None:
                    details["username"] = str(request.POST.get("login", ""))[:150]
                record(action, DENIED, request=request, actor=actor, details=details)
            elif _refused_passkey(response):
                # allauth signals a wrong code, not a refused passkey: record that here.
                record(action, FAILED, request=request, actor=_refused_passkey(response), details={"type": "webauthn"})
            return response

        return wrapper

    return decorator


login = answers_429_when_throttled(Action.STAFF_LOGIN, "password")(account_views.login)
mfa_authenticate = answers_429_when_throttled(Action.STAFF_SECOND_FACTOR_USE, "second_factor")(mfa_views.authenticate)
mfa_reauthenticate = answers_429_when_throttled(Action.STAFF_STEP_UP, "step_up")(mfa_views.reauthenticate)
reauthenticate = answers_429_when_throttled(Action.STAFF_STEP_UP, "password")(account_views.reauthenticate)


class StepUpWithPasskeyView(webauthn_views.ReauthenticateWebAuthnView):
    """allauth's passkey check; a refused passkey comes back to this page (allauth would go to the sign-in page)."""

    def form_invalid(self, form: Any) -> HttpResponse:
        throttled = any(e.code == THROTTLED_CODE for errors in form.errors.as_data().values() for e in errors)
        for message in form.errors.get("credential", []):
            messages.error(self.request, message)
        if not throttled:
            record(Action.STAFF_STEP_UP, FAILED, request=self.request, details={"type": "webauthn"})
        if throttled:
            record(
                Action.STAFF_STEP_UP,
                DENIED,
                request=self.request,
                details={"refused": "throttled", "step": "step_up", "type": "webauthn"},
            )
            return render(self.request, "429.html", status=429)
        return HttpResponseRedirect(self.passthrough_next_url(reverse("mfa_reauthenticate_webauthn")))


mfa_reauthenticate_webauthn = StepUpWithPasskeyView.as_view()


def too_many_requests(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler429 for allauth's per-view limits (e.g. 30 sign-in pages a minute from one address), audited."""
    match = getattr(request, "resolver_match", None)
    record(
        Action.ACCESS_DENIED,
        DENIED,
        request=request,
        details={
            "refused": "throttled",
            "status": 429,
            "path": request.path[:500],
            "view": match.view_name if match else "",
        },
    )
    return render(request, "429.html", status=429)
