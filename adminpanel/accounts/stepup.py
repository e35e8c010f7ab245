"""Step-up: a sensitive action needs a second factor checked again within the last STAFF_STEP_UP_SECONDS.

Built on allauth's reauthentication: the check is allauth's own "reauthenticate with a passkey / app code /
recovery code" page, and its record in the session is what `step_up_is_fresh` reads. Signing in does not count:
the first sensitive action after sign-in asks once, then for five minutes not again.

Use it on a view (bulk jobs: starting and approving; role changes; the lockout override):

    @step_up_required(purpose="bulk.start")              # any POST needs a fresh check
    def start_job(request): ...

    @step_up_required(purpose="lockout.override", when=posted_with("override_lockout", "override_lockout"),
                      keep=("reason", "ticket", "override_lockout"))
    def remove(request, ...): ...                           # GET branch: initial={**kept_fields(request)}

Without `keep`, allauth keeps the whole POST and replays it once the check has passed (the action then happens
without a second click); an htmx request instead comes back to the page it was sent from. With `keep`, the named
fields are kept and the staff member lands back on the same page (a GET of the same URL) with them filled in, to
look again and confirm. Services and tests can call `step_up_is_fresh(request)` directly. A staff member who has
no second factor yet is sent to register one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from allauth.account.adapter import get_adapter
from allauth.account.authentication import get_authentication_records
from allauth.core.exceptions import ReauthenticationRequired
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from adminpanel.accounts import second_factor
from adminpanel.accounts.roles import perm
from adminpanel.audit.services import DENIED, Action, record

KEPT_SESSION_KEY = "staff_step_up_kept"
KEPT_FOR_SECONDS = 10 * 60

View = Callable[..., HttpResponse]


def step_up_is_fresh(request: HttpRequest) -> bool:
    """A second factor was re-checked (allauth reauthentication, method "mfa") within STAFF_STEP_UP_SECONDS."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    now = time.time()
    return any(
        r.get("method") == "mfa" and r.get("reauthenticated") and now - r.get("at", 0) < settings.STAFF_STEP_UP_SECONDS
        for r in get_authentication_records(request, user)
    )


def posted_with(field: str, capability: str | None = None) -> Callable[[HttpRequest], bool]:
    """A `when` for step_up_required: a POST carrying `field`, by someone holding `capability` (if given).

    Someone without the capability is refused by the view as before, without being asked for a step-up first.
    """

    def when(request: HttpRequest) -> bool:
        if request.method != "POST" or field not in request.POST:
            return False
        return capability is None or request.user.has_perm(perm(capability))

    return when


def step_up_required(
    view: View | None = None,
    *,
    purpose: str = "",
    when: Callable[[HttpRequest], bool] | None = None,
    keep: Iterable[str] | None = None,
) -> Any:
    """View decorator: asks for a fresh second factor first when `when(request)` (default: any POST) holds."""
    kept_names = tuple(keep) if keep is not None else None

    def decorator(view_func: View) -> View:
        @wraps(view_func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            needed = when(request) if when is not None else request.method == "POST"
            if needed and not step_up_is_fresh(request):
                return ask_for_step_up(request, purpose=purpose or view_func.__name__, keep=kept_names)
            return view_func(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view is not None else decorator


def ask_for_step_up(request: HttpRequest, *, purpose: str, keep: tuple[str, ...] | None = None) -> HttpResponse:
    """Records the refusal and sends the staff member to the check (or to register a factor if they have none)."""
    record(Action.STAFF_STEP_UP, DENIED, request=request, details={"for": purpose, "refused": "step_up_needed"})
    if not second_factor.has_second_factor(request.user):  # type: ignore[arg-type]
        messages.warning(
            request,
            "This action needs a second factor checked just now. Register a passkey or an authenticator app first.",
        )
        return _redirect(request, reverse("mfa_index"))
    htmx = getattr(request, "htmx", False)
    if keep is None and not htmx:
        raise ReauthenticationRequired()  # allauth keeps the request and replays it after the check
    if keep is not None:
        request.session[KEPT_SESSION_KEY] = {
            "path": request.path,
            "fields": {name: request.POST.get(name, "") for name in keep if name in request.POST},
            "at": time.time(),
        }
        back_to = request.get_full_path()
    else:
        # A fragment cannot be replayed into a whole page: come back to the page the request came from.
        back_to = request.htmx.current_url_abs_path or "/"  # type: ignore[attr-defined]
    check_url = get_adapter().get_reauthentication_methods(request.user)[0]["url"]
    return _redirect(request, f"{check_url}?{urlencode({'next': back_to})}")


def kept_fields(request: HttpRequest) -> dict[str, str]:
    """What the staff member had typed before the step-up, for the page they return to (once, same URL, 10 min)."""
    kept = request.session.get(KEPT_SESSION_KEY)
    if not isinstance(kept, dict) or kept.get("path") != request.path:
        return {}
    del request.session[KEPT_SESSION_KEY]
    if time.time() - kept.get("at", 0) > KEPT_FOR_SECONDS:
        return {}
    return dict(kept.get("fields") or {})


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)
