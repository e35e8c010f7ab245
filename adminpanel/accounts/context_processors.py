"""The account menu: whether the staff member still has to add a second factor."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from adminpanel.accounts import second_factor


def second_factor_context(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"staff_needs_second_factor": False, "staff_mfa_required": settings.STAFF_MFA_REQUIRED}
    # Lazy: only pages that show the account menu ask the database.
    return {
        "staff_needs_second_factor": SimpleLazyObject(lambda: not second_factor.has_second_factor(user)),
        "staff_mfa_required": settings.STAFF_MFA_REQUIRED,
    }
