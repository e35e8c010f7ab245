"""Support desk views: parse input with a form, call one service, render the page or its htmx fragment."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from adminpanel.accounts.decorators import requires
from adminpanel.accounts.stepup import kept_fields, posted_with, step_up_required
from adminpanel.audit.services import Action
from adminpanel.directory import actions, enrollment, lookup, removal
from adminpanel.directory.actions import Problem, Staff
from adminpanel.directory.forms import ENROLLABLE, EnrollForm, RemoveForm, SearchForm
from adminpanel.directory.labels import authenticator_label


def _render(request: HttpRequest, template: str, partial: str | None, context: dict, status: int = 200) -> HttpResponse:
    """The whole page, or only its fragment for htmx; the status stays honest either way (see base.html)."""
    name = f"{template}#{partial}" if partial and request.htmx else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    if status == 503 and context.get("problem") and context["problem"].retry_after:
        response["Retry-After"] = str(int(context["problem"].retry_after + 0.999))
    return response


def _checked_user_id(action: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Answers 400 (recorded) for a user or authenticator id too long to handle, before the view runs."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, user_id: str, *args: object, **kwargs: str) -> HttpResponse:
            staff = Staff(request.user, request)
            problem = actions.oversized_ids(staff, action, user_id, kwargs.get("authenticator_id", ""))
            if problem:
                return render(request, "directory/bad_user_id.html", {"problem": problem}, status=problem.status)
            return view(request, user_id, *args, **kwargs)

        return wrapper

    return decorator


def _status(problem: Problem | None, default: int = 200) -> int:
    return problem.status if problem else default


@require_GET
@requires("view_directory")
def user_search(request: HttpRequest) -> HttpResponse:
    has_query = bool(request.GET.get("q", "").strip())
    form = SearchForm(request.GET if has_query else None)
    result, status = None, 200
    if has_query:
        if form.is_valid():
            data = form.cleaned_data
            result = lookup.search_users(
                Staff(request.user, request),
                kind=data["kind"],
                value=data["value"],
                cursor=data["cursor"] or None,
            )
            status = _status(result.problem)
        else:
            status = 422
    context = {"form": form, "result": result, "problem": result.problem if result else None}
    return _render(request, "directory/user_search.html", "results", context, status)


def _detail_context(detail: lookup.UserDetail) -> dict:
    return {
        "detail": detail,
        "user_id": detail.user_id,
        "problem": detail.problem,
        "enrollable": ENROLLABLE,
        "events": lookup.recent_audit_events(detail.user_id),
    }


@require_GET
@requires("view_directory")
@_checked_user_id(Action.USER_VIEW)
def user_detail(request: HttpRequest, user_id: str) -> HttpResponse:
    detail = lookup.load_user(Staff(request.user, request), user_id)
    if detail.problem:
        return _render(
            request,
            "directory/user_detail.html",
            None,
            _detail_context(detail),
            detail.problem.status,
        )
    if not detail.found:
        return render(request, "directory/user_not_found.html", {"user_id": user_id}, status=404)
    return _render(request, "directory/user_detail.html", None, _detail_context(detail))


@require_POST
@requires("reveal_pii")
@_checked_user_id(Action.PII_REVEAL)
def reveal(request: HttpRequest, user_id: str) -> HttpResponse:
    field_name = request.POST.get("field")
    if field_name not in ("email", "phone_number"):
        return render(request, "directory/reveal.html", {"problem": Problem("Choose email or phone.", 400)}, status=400)
    value, problem = lookup.reveal_contact(Staff(request.user, request), user_id, field_name)
    context = {"value": value, "field": field_name, "problem": problem, "user_id": user_id}
    return _render(request, "directory/reveal.html", "value", context, _status(problem))


@require_http_methods(["GET", "POST"])
@requires("enroll_authenticator")
@_checked_user_id(Action.AUTHENTICATOR_ENROLL)
def enroll(request: HttpRequest, user_id: str) -> HttpResponse:
    if request.method == "GET":
        method = request.GET.get("method")
        form = EnrollForm(initial={"method": method if method in ENROLLABLE else "EMAIL_OTP"})
        return _render(
            request,
            "directory/enroll.html",
            "form",
            {"form": form, "user_id": user_id, "enrollable": ENROLLABLE},
        )
    form = EnrollForm(request.POST)
    if not form.is_valid():
        context = {"form": form, "user_id": user_id, "enrollable": ENROLLABLE}
        return _render(request, "directory/enroll.html", "form", context, 422)
    data = form.cleaned_data
    result = enrollment.enroll_authenticator(
        Staff(request.user, request),
        user_id,
        method=data["method"],
        contact=form.contact_fields(),
        reason=data["reason"],
        ticket=data["ticket"],
    )
    if result.problem:
        context = {"form": form, "user_id": user_id, "enrollable": ENROLLABLE, "problem": result.problem}
        return _render(request, "directory/enroll.html", "form", context, result.problem.status)
    messages.success(request, f"Added {authenticator_label(result.authenticator)}.")
    if not request.htmx:
        return redirect(reverse("users:detail", args=[user_id]))
    context = {
        "user_id": user_id,
        "authenticators": result.authenticators,
        "new_id": result.authenticator.user_authenticator_id,
    }
    return render(request, "directory/enrolled.html", context)


def _remove_again(
    request: HttpRequest,
    staff: Staff,
    form: RemoveForm,
    user_id: str,
    authenticator_id: str,
    problem: Problem | None = None,
) -> HttpResponse:
    """The dialog again, with what to correct, keeping the original confirmation (no new one is minted)."""
    preview = removal.preview_removal(staff, user_id, authenticator_id)
    preview.token = request.POST.get("token", "")
    context = {
        "preview": preview,
        "form": form,
        "user_id": user_id,
        "authenticator_id": authenticator_id,
        "problem": problem or preview.problem,
    }
    return _render(request, "directory/remove.html", "dialog", context, 422)


@require_http_methods(["GET", "POST"])
@requires("remove_authenticator")
@_checked_user_id(Action.AUTHENTICATOR_REMOVE)
# A fresh second factor before an override (by those allowed one); the agent comes back to this dialog, filled in.
@step_up_required(
    purpose=Action.LOCKOUT_OVERRIDE,
    when=posted_with("override_lockout", "override_lockout"),
    keep=("reason", "ticket", "override_lockout"),
)
def remove(request: HttpRequest, user_id: str, authenticator_id: str) -> HttpResponse:
    staff = Staff(request.user, request)
    if request.method == "GET":
        preview = removal.preview_removal(staff, user_id, authenticator_id)
        form = RemoveForm(initial={"token": preview.token, **kept_fields(request)})
        context = {
            "preview": preview,
            "form": form,
            "user_id": user_id,
            "authenticator_id": authenticator_id,
            "problem": preview.problem,
        }
        return _render(request, "directory/remove.html", "dialog", context, _status(preview.problem))
    form = RemoveForm(request.POST)
    if not form.is_valid():
        return _remove_again(request, staff, form, user_id, authenticator_id)
    data = form.cleaned_data
    result = removal.confirm_removal(
        staff,
        user_id,
        authenticator_id,
        token=data["token"],
        reason=data["reason"],
        ticket=data["ticket"],
        override_lockout=data["override_lockout"],
    )
    if result.problem and result.problem.status == 422:  # correctable: the same confirmation stays valid
        return _remove_again(request, staff, form, user_id, authenticator_id, result.problem)
    if result.problem:
        context = {
            "result": result,
            "form": form,
            "user_id": user_id,
            "authenticator_id": authenticator_id,
            "problem": result.problem,
            "refused": True,
        }
        return _render(request, "directory/remove.html", "dialog", context, result.problem.status)
    if result.already_gone:
        messages.info(request, "That authenticator was already gone from Authsignal; nothing was removed.")
    else:
        messages.success(
            request,
            f"Removed {authenticator_label(result.removed)}."
            + (" Lockout guard overridden: the user has no way to sign in now." if result.overridden else ""),
        )
    if not request.htmx:
        return redirect(reverse("users:detail", args=[user_id]))
    return render(request, "directory/removed.html", {"user_id": user_id, "authenticators": result.remaining})
