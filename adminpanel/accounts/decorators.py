"""`@requires("capability")`: a view decorator that refuses with a 403 naming the permission that was missing;
`staff_user(request)`: the signed-in staff account behind a view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from adminpanel.accounts.roles import perm


def requires(codename: str) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Like permission_required(raise_exception=True), but the refusal (and so its audit entry) names the permission."""
    permission = perm(codename)

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.has_perm(permission):
                raise PermissionDenied(permission)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def staff_user(request: HttpRequest) -> User:
    """The signed-in staff member (views run behind LoginRequiredMiddleware; anything else is refused)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("not signed in")
    return user
