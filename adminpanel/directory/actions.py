"""What every support-desk action shares: who acts (Staff), what went wrong (Problem), audit descriptions.

Every staff action in the directory goes through `Staff.audit` (which calls `audit.record`); actions that change
Authsignal write `requested` before the call and the outcome after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from adminpanel.accounts.roles import perm
from adminpanel.audit.models import AuditEvent
from adminpanel.audit.services import Outcome, record
from adminpanel.authsignal.errors import AuthsignalError, RateLimited, Unavailable
from adminpanel.authsignal.types import Authenticator
from adminpanel.core.display import has_control_characters, visible
from adminpanel.core.masking import contact_digest, mask_contact


@dataclass(frozen=True)
class Staff:
    """Who acts, and the request they act through (None for background jobs)."""

    user: AbstractBaseUser
    request: HttpRequest | None = None

    def can(self, codename: str) -> bool:
        return self.user.has_perm(perm(codename))

    def audit(self, action: str, outcome: str, **fields: Any) -> AuditEvent:
        return record(action, outcome, request=self.request, actor=self.user, **fields)


@dataclass
class Problem:
    """A refusal or failure to show the agent: the message and the HTTP status that fits it."""

    message: str
    status: int
    retry_after: float | None = None


def upstream_problem(exc: AuthsignalError) -> Problem:
    if isinstance(exc, RateLimited):
        return Problem(str(exc), 503, exc.retry_after)
    return Problem(str(exc), 504 if isinstance(exc, Unavailable) and exc.status is None else 502)


def error_details(exc: AuthsignalError) -> dict[str, Any]:
    return {
        "error": {
            "type": type(exc).__name__,
            "status": exc.status,
            "code": exc.code,
            "message": str(exc),
            "attempts": exc.attempts,
            "outcome_unknown": getattr(exc, "outcome_unknown", False),
        }
    }


def describe(authenticator: Authenticator) -> dict[str, Any]:
    """An authenticator as the audit log keeps it: no contact in clear, a masked form and a keyed digest."""
    contact = authenticator.email or authenticator.phone_number
    item: dict[str, Any] = {
        "id": authenticator.user_authenticator_id,
        "method": authenticator.verification_method,
    }
    if contact:
        item["contact"] = mask_contact(contact)
        item["contact_digest"] = contact_digest(contact)
    if authenticator.webauthn_credential:
        item["passkey"] = authenticator.webauthn_credential.name or authenticator.webauthn_credential.provider
    return item


def describe_all(authenticators: Iterable[Authenticator]) -> list[dict[str, Any]]:
    return [describe(a) for a in authenticators]


# --- input limits ---------------------------------------------------------------------------------------

MAX_USER_ID = 255  # the audit log's column; Authsignal ids (emails, UUIDs, "123:test") are far shorter


def unusable_ids(staff: Staff, action: str, user_id: str, authenticator_id: str = "") -> Problem | None:
    """Refuses (and records) an id the dashboard cannot handle, before any call: too long for the audit log, or
    holding control characters (NUL, escapes: PostgreSQL refuses NUL, and nobody can type or read them)."""
    for what, value in (("user id", user_id), ("authenticator id", authenticator_id)):
        refused = ""
        if len(value) > MAX_USER_ID:
            refused = "too_long"
            message = (
                f"That {what} is {len(value):,} characters long; this dashboard handles ids of up to {MAX_USER_ID}."
            )
        elif has_control_characters(value):
            refused = "control_characters"
            message = (
                f"That {what} contains control characters ({visible(value, identifier=True)[:80]}) that this "
                "dashboard does not act on. Manage this user through the Authsignal API or portal."
            )
        if refused:
            staff.audit(
                action,
                Outcome.DENIED,
                user_id=_clip(user_id),
                authenticator_id=_clip(authenticator_id),
                details={
                    "refused": f"{what.replace(' ', '_')}_{refused}",
                    "length": len(value),
                    "digest": contact_digest(value),
                },
            )
            return Problem(message, 400)
    return None


def _clip(value: str) -> str:
    return value if len(value) <= MAX_USER_ID else value[: MAX_USER_ID - 1] + "…"


def error_details_from(problem: Problem) -> dict[str, Any]:
    return {"error": {"message": problem.message, "status": problem.status}}
