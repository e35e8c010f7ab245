"""Whether this session has passed a second factor, and whether a staff member has registered one.

A session counts as "second factor done" once the staff member has used one (allauth's sign-in step or a step-up),
registered their first one in this session (registering proves possession), or signed in through an identity
provider whose own MFA we trust (OIDC_TRUST_IDP_MFA). The mark lives in the session, bound to the user, and goes
with the session: sign-out and expiry flush it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from allauth.mfa.models import Authenticator

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

SESSION_KEY = "staff_second_factor"
# Types that are a second factor on their own; recovery codes only stand in for a lost one.
FACTOR_TYPES = (Authenticator.Type.WEBAUTHN, Authenticator.Type.TOTP)


def has_second_factor(user: AbstractBaseUser) -> bool:
    """The staff member has registered a passkey or an authenticator app."""
    return Authenticator.objects.filter(user_id=user.pk, type__in=FACTOR_TYPES).exists()


def mark_passed(request: HttpRequest, user: AbstractBaseUser, via: str) -> None:
    """Records in the session that `user` passed a second factor just now (`via`: webauthn, totp, idp, …)."""
    request.session[SESSION_KEY] = {"user": str(user.pk), "via": via, "at": time.time()}


def passed(request: HttpRequest) -> dict[str, Any] | None:
    """The session's second-factor mark for the signed-in user, or None."""
    mark = request.session.get(SESSION_KEY)
    user = getattr(request, "user", None)
    if not isinstance(mark, dict) or user is None or not user.is_authenticated:
        return None
    return mark if mark.get("user") == str(user.pk) else None
