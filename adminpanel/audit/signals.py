"""Staff sign-in, failed sign-in and sign-out go into the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from adminpanel.audit.models import Action, Outcome
from adminpanel.audit.services import record


@receiver(user_logged_in, dispatch_uid="audit_staff_login")
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record(Action.STAFF_LOGIN, Outcome.SUCCEEDED, request=request, actor=user)


@receiver(user_login_failed, dispatch_uid="audit_staff_login_failed")
def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Django has already masked the password in `credentials`; keep only the attempted username.
    username = str(credentials.get("username", ""))[:150]
    record(Action.STAFF_LOGIN, Outcome.FAILED, request=request, details={"username": username})


@receiver(user_logged_out, dispatch_uid="audit_staff_logout")
def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record(Action.STAFF_LOGOUT, Outcome.SUCCEEDED, request=request, actor=user)
