"""Support desk views: parse input with a form, call one service, render the page or its htmx fragment."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from adminpanel.accounts.decorators import requires
from adminpanel.accounts.stepup import kept_fields, posted_with, step_up_required
from adminpanel.audit.services import Action
from adminpanel.core.masking import is_contact, mask_contact
from adminpanel.core.problems import Problem
from adminpanel.core.rendering import HtmxHttpRequest, render_page
from adminpanel.core.templatetags.display import uid
from adminpanel.directory import enrollment, lookup, removal
from adminpanel.directory.forms import EnrollForm, RemoveForm, SearchForm
from adminpanel.directory.id_checks import unusable_ids
from adminpanel.directory.methods import ENROLLABLE, authenticator_label
from adminpanel.directory.staff import Staff


def _checked_user_id(action: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Answers 400 (recorded) for a user or authenticator id the dashboard cannot handle, before the view runs."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HtmxHttpRequest, user_id: str, *args: object, **kwargs: str) -> HttpResponse:
            staff = Staff.of(request)
            problem = unusable_ids(staff, action, user_id, kwargs.get("authenticator_id", ""))
            if problem:
                return render(request, "directory/bad_user_id.html", {"problem": problem}, status=problem.status)
            return view(request, user_id, *args, **kwargs)

        return wrapper

    return decorator


def _status(problem: Problem | None, default: int = 200) -> int:
    return problem.status if problem else default


@require_GET
@requires("view_directory")
def user_search(request: HtmxHttpRequest) -> HttpResponse:
    has_query = bool(request.GET.get("q", "").strip())
    form = SearchForm(request.GET if has_query else None)
    result, status = None, 200
    if has_query:
        if form.is_valid():
            data = form.cleaned_data
            result = lookup.search_users(
                Staff.of(request),
                kind=data["kind"],
                value=data["value"],
                cursor=data["cursor"] or None,
            )
            status = _status(result.problem)
        else:
            status = 422
    context = {"form": form, "result": result, "problem": result.problem if result else None}
    return render_page(request, "directory/user_search.html", context, partial="results", status=status)


def _detail_context(detail: lookup.UserDetail) -> dict:
    return {
        "detail": detail,
        "user_id": detail.user_id,
        "problem": detail.problem,
        "staff_actions": lookup.recent_staff_actions(detail.user_id),
        "user_id_is_contact": is_contact(detail.user_id),
    }


def _user_state(
    request: HtmxHttpRequest, template: str, user_id: str, authenticators: list, **extra: object
) -> HttpResponse:
    """After a change: the profile read again, the authenticators, the staff actions and the flash, all swapped
    out of band so no part of the page still shows the state before the change."""
    user, profile_problem = lookup.refreshed_user(user_id)
    context = {
        "user_id": user_id,
        "user": user,
        "profile_problem": profile_problem,
        "authenticators": authenticators,
        "staff_actions": lookup.recent_staff_actions(user_id),
        "user_id_is_contact": is_contact(user_id),
        "focus_authenticators": True,
        **extra,
    }
    return render(request, template, context)


@require_GET
@requires("view_directory")
@_checked_user_id(Action.USER_VIEW)
def user_detail(request: HtmxHttpRequest, user_id: str) -> HttpResponse:
    detail = lookup.load_user(Staff.of(request), user_id)
    if detail.problem:
        return render_page(request, "directory/user_detail.html", _detail_context(detail), status=detail.problem.status)
    if not detail.found:
        return render(request, "directory/user_not_found.html", {"user_id": user_id}, status=404)
    return render_page(request, "directory/user_detail.html", _detail_context(detail))


@require_POST
@requires("reveal_pii")
@_checked_user_id(Action.PII_REVEAL)
def reveal(request: HtmxHttpRequest, user_id: str) -> HttpResponse:
    field_name = request.POST.get("field")
    if field_name not in lookup.REVEALABLE:
        refusal = Problem("Choose the email, the phone number or the user id.", 400)
        return render(request, "directory/reveal.html", {"problem": refusal}, status=400)
    value, problem = lookup.reveal_contact(Staff.of(request), user_id, field_name)
    context = {
        "value": value,
        "field": field_name,
        "what": lookup.REVEALABLE[field_name],
        "masked": (uid(user_id) if field_name == "user_id" else mask_contact(value)) if value else "",
        "problem": problem,
        "user_id": user_id,
        "staff_actions": lookup.recent_staff_actions(user_id) if request.htmx else [],
    }
    return render_page(request, "directory/reveal.html", context, partial="answer", status=_status(problem))


@require_http_methods(["GET", "POST"])
@requires("enroll_authenticator")
@_checked_user_id(Action.AUTHENTICATOR_ENROLL)
def enroll(request: HtmxHttpRequest, user_id: str) -> HttpResponse:
    if request.method == "GET":
        # Switching method keeps what was typed (the method picker submits the form's other fields with it).
        method = request.GET.get("method")
        kept = {name: request.GET[name] for name in EnrollForm.KEPT_ON_SWITCH if name in request.GET}
        form = EnrollForm(initial={**kept, "method": method if method in ENROLLABLE else "EMAIL_OTP"})
        context = {"form": form, "user_id": user_id, "enrollable": ENROLLABLE}
        return render_page(request, "directory/enroll.html", context, partial="form")
    form = EnrollForm(request.POST)
    if not form.is_valid():
        context = {"form": form, "user_id": user_id, "enrollable": ENROLLABLE}
        return render_page(request, "directory/enroll.html", context, partial="form", status=422)
    data = form.cleaned_data
    result = enrollment.enroll_authenticator(
        Staff.of(request),
        user_id,
        method=data["method"],
        contact=form.contact_fields(),
        reason=data["reason"],
        ticket=data["ticket"],
    )
    if result.problem:
        context = {"form": form, "user_id": user_id, "enrollable": ENROLLABLE, "problem": result.problem}
        return render_page(request, "directory/enroll.html", context, partial="form", status=result.problem.status)
    assert result.authenticator is not None  # no problem: the service enrolled one
    added = authenticator_label(result.authenticator)
    messages.success(request, f"Added {added}.")
    if not request.htmx:
        return redirect(reverse("users:detail", args=[user_id]))
    return _user_state(
        request,
        "directory/enrolled.html",
        user_id,
        result.authenticators,
        new_id=result.authenticator.user_authenticator_id,
        added_label=added,
    )


def _remove_again(
    request: HtmxHttpRequest,
    staff: Staff,
    form: RemoveForm,
    user_id: str,
    authenticator_id: str,
    problem: Problem | None = None,
    *,
    status: int = 422,
    new_confirmation: bool = False,
) -> HttpResponse:
    """The dialog again with what was typed and what to correct. The original confirmation is kept unless it was
    spent on a refusal the agent may now fix (the lockout guard, for someone allowed to override it)."""
    preview = removal.preview_removal(staff, user_id, authenticator_id)
    if not new_confirmation:
        preview.token = request.POST.get("token", "")
    form = RemoveForm({**request.POST.dict(), "token": preview.token}) if new_confirmation else form
    context = {
        "preview": preview,
        "form": form,
        "user_id": user_id,
        "authenticator_id": authenticator_id,
        "problem": problem or preview.problem,
    }
    return render_page(request, "directory/remove.html", context, partial="dialog", status=status)


@require_http_methods(["GET", "POST"])
@requires("remove_authenticator")
@_checked_user_id(Action.AUTHENTICATOR_REMOVE)
# A fresh second factor before an override (by those allowed one); the agent comes back to this dialog, filled in.
@step_up_required(
    purpose=Action.LOCKOUT_OVERRIDE,
    when=posted_with("override_lockout", "override_lockout"),
    keep=("reason", "ticket", "override_lockout"),
)
def remove(request: HtmxHttpRequest, user_id: str, authenticator_id: str) -> HttpResponse:
    staff = Staff.of(request)
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
        return render_page(request, "directory/remove.html", context, partial="dialog", status=_status(preview.problem))
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
    if result.problem and result.lockout_refused and staff.can("override_lockout"):
        # Not a dead end for Security: the same form, filled in, with the override offered right there.
        return _remove_again(
            request, staff, form, user_id, authenticator_id, result.problem, status=409, new_confirmation=True
        )
    if result.problem:
        context = {
            "result": result,
            "form": form,
            "user_id": user_id,
            "authenticator_id": authenticator_id,
            "problem": result.problem,
            "refused": True,
        }
        return render_page(request, "directory/remove.html", context, partial="dialog", status=result.problem.status)
    if result.already_gone or result.removed is None:
        messages.info(request, "That authenticator was already gone from Authsignal; nothing was removed.")
    else:
        messages.success(
            request,
            f"Removed {authenticator_label(result.removed)}."
            + (" Lockout guard overridden: the user has no way to sign in now." if result.overridden else ""),
        )
    if not request.htmx:
        return redirect(reverse("users:detail", args=[user_id]))
    return _user_state(request, "directory/removed.html", user_id, result.remaining)
