"""allauth's second-factor events go into the audit log (type and name only: never a secret, never a code).

Sign-in, failed sign-in and sign-out are recorded from Django's own signals in adminpanel/audit/signals.py.
"""

from __future__ import annotations

import time
from typing import Any

from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from adminpanel.accounts import middleware, second_factor
from adminpanel.audit.services import FAILED, SUCCEEDED, Action, record


def _describe(authenticator: Authenticator) -> dict[str, Any]:
    details: dict[str, Any] = {"type": str(authenticator.type)}
    if authenticator.pk is not None:  # None once deleted
        details["authenticator"] = authenticator.pk
    if authenticator.type == Authenticator.Type.WEBAUTHN:
        details["name"] = str(authenticator.wrap().name)[:100]
    return details


@receiver(user_logged_in, dispatch_uid="staff_session_start")
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # Django has just rotated the session key; the absolute and idle timeouts count from now.
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[middleware.STARTED_KEY] = now
        request.session[middleware.SEEN_KEY] = now


@receiver(mfa_signals.authenticator_added, dispatch_uid="audit_second_factor_added")
def on_added(sender: Any, request: Any, user: Any, authenticator: Authenticator, **kwargs: Any) -> None:
    record(Action.STAFF_SECOND_FACTOR_ADD, SUCCEEDED, request=request, actor=user, details=_describe(authenticator))
    if authenticator.type in second_factor.FACTOR_TYPES and request is not None:
        # Registering proves possession: the session counts as having passed a second factor.
        second_factor.mark_passed(request, user, str(authenticator.type))


@receiver(mfa_signals.authenticator_removed, dispatch_uid="audit_second_factor_removed")
def on_removed(sender: Any, request: Any, user: Any, authenticator: Authenticator, **kwargs: Any) -> None:
    record(Action.STAFF_SECOND_FACTOR_REMOVE, SUCCEEDED, request=request, actor=user, details=_describe(authenticator))


@receiver(mfa_signals.authenticator_reset, dispatch_uid="audit_second_factor_reset")
def on_reset(sender: Any, request: Any, user: Any, authenticator: Authenticator, **kwargs: Any) -> None:
    record(Action.STAFF_SECOND_FACTOR_RESET, SUCCEEDED, request=request, actor=user, details=_describe(authenticator))


@receiver(mfa_signals.authenticator_used, dispatch_uid="audit_second_factor_used")
def on_used(
    sender: Any,
    request: Any,
    user: Any,
    authenticator: Authenticator,
    reauthenticated: bool = False,
    **kwargs: Any,
) -> None:
    details = _describe(authenticator)
    purpose = "step-up" if reauthenticated else "sign-in"
    action = Action.STAFF_STEP_UP if reauthenticated else Action.STAFF_SECOND_FACTOR_USE
    record(action, SUCCEEDED, request=request, actor=user, details=details)
    if authenticator.type == Authenticator.Type.RECOVERY_CODES:
        fresh = Authenticator.objects.filter(pk=authenticator.pk).first()  # allauth marked the code on its own copy
        unused = len(fresh.wrap().get_unused_codes()) if fresh is not None else 0
        record(
            Action.STAFF_RECOVERY_CODE_USE,
            SUCCEEDED,
            request=request,
            actor=user,
            details={**details, "purpose": purpose, "unused_left": unused},
        )
    if request is not None:
        second_factor.mark_passed(request, user, str(authenticator.type))
        if reauthenticated:
            request.session.cycle_key()  # a step-up starts a new session key, like a sign-in


@receiver(mfa_signals.authentication_failed, dispatch_uid="audit_second_factor_failed")
def on_failed(
    sender: Any,
    request: Any,
    user: Any,
    authenticator: Authenticator,
    reauthentication: bool = False,
    **kwargs: Any,
) -> None:
    action = Action.STAFF_STEP_UP if reauthentication else Action.STAFF_SECOND_FACTOR_USE
    record(action, FAILED, request=request, actor=user, details=_describe(authenticator))
