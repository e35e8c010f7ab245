"""What the support desk keeps in an audit event's details: authenticators (contacts masked + a keyed digest)
and errors. No contact is ever stored in clear."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from adminpanel.authsignal.errors import AuthsignalError
from adminpanel.authsignal.types import Authenticator
from adminpanel.core.masking import contact_digest, mask_contact
from adminpanel.core.problems import Problem


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


def error_details_from(problem: Problem) -> dict[str, Any]:
    return {"error": {"message": problem.message, "status": problem.status}}


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
