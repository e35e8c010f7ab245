"""`@requires("capability")`: a view decorator that refuses with a 403 naming the permission that was missing."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from adminpanel.accounts.roles import perm


def requires(codename: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Like permission_required(raise_exception=True), but the refusal (and so its audit entry) names the permission."""
    permission = perm(codename)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.has_perm(permission):
                raise PermissionDenied(permission)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
