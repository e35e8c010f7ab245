"""Enrolling a verified authenticator: duplicate check before any call, write-ahead audit, no blind re-send."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from adminpanel.audit.services import Action, Outcome
from adminpanel.authsignal.connection import get_client
from adminpanel.authsignal.errors import AuthsignalError, Unavailable
from adminpanel.authsignal.types import Authenticator
from adminpanel.core import dates
from adminpanel.core.masking import contact_digest, mask_contact
from adminpanel.core.problems import Problem
from adminpanel.directory.audit_details import describe_all, error_details
from adminpanel.directory.methods import authenticator_label
from adminpanel.directory.problems import upstream_problem
from adminpanel.directory.staff import Staff


@dataclass
class EnrollResult:
    authenticator: Authenticator | None = None
    authenticators: list[Authenticator] = field(default_factory=list)
    problem: Problem | None = None


def duplicate_of(existing: Iterable[Authenticator], method: str, contact: dict[str, str]) -> Authenticator | None:
    """The authenticator the user already has for this method and contact, if any."""
    for item in existing:
        if item.verification_method != method:
            continue
        if "email" in contact and (item.email or "").lower() == contact["email"].lower():
            return item
        if "phone_number" in contact and item.phone_number == contact["phone_number"]:
            return item
        credential = item.webauthn_credential
        if "credential_id" in contact and credential and credential.credential_id == contact["credential_id"]:
            return item
    return None


def enroll_authenticator(
    staff: Staff, user_id: str, *, method: str, contact: dict[str, str], reason: str, ticket: str = ""
) -> EnrollResult:
    client = get_client()
    shown = contact.get("email") or contact.get("phone_number") or contact.get("name") or "passkey"
    audit_fields: dict[str, Any] = {
        "user_id": user_id,
        "verification_method": method,
        "reason": reason,
        "ticket": ticket,
    }
    contact_info = {
        "contact": mask_contact(shown) if ("email" in contact or "phone_number" in contact) else shown,
        "contact_digest": contact_digest(
            contact.get("email") or contact.get("phone_number") or contact["credential_id"]
        ),
    }
    try:
        before = client.get_authenticators(user_id)
    except AuthsignalError as exc:
        staff.audit(
            Action.AUTHENTICATOR_ENROLL,
            Outcome.FAILED,
            **audit_fields,
            details={**contact_info, **error_details(exc)},
        )
        return EnrollResult(problem=upstream_problem(exc))
    duplicate = duplicate_of(before, method, contact)
    if duplicate:
        added = f" (added {dates.day(duplicate.created_at)})" if duplicate.created_at else ""
        message = f"This user already has {authenticator_label(duplicate)}{added}. Nothing was sent to Authsignal."
        staff.audit(
            Action.AUTHENTICATOR_ENROLL,
            Outcome.DENIED,
            **audit_fields,
            authenticator_id=duplicate.user_authenticator_id,
            details={**contact_info, "refused": "duplicate", "before": describe_all(before)},
        )
        return EnrollResult(authenticators=before, problem=Problem(message, 409))

    before_described = describe_all(before)  # once: both rows keep it, the outcome adds the new one
    requested = staff.audit(
        Action.AUTHENTICATOR_ENROLL,
        Outcome.REQUESTED,
        **audit_fields,
        details={**contact_info, "before": before_described},
    )
    outcome_fields = {**audit_fields, "correlation_id": requested.correlation_id}
    try:
        enrolled = client.enroll_verified_authenticator(
            user_id,
            verification_method=method,
            email=contact.get("email"),
            phone_number=contact.get("phone_number"),
            credential_id=contact.get("credential_id"),
            credential_public_key=contact.get("credential_public_key"),
            name=contact.get("name"),
        )
    except AuthsignalError as exc:
        if isinstance(exc, Unavailable) and exc.outcome_unknown:
            return _settle_unknown_enroll(staff, user_id, method, contact, before, outcome_fields, contact_info, exc)
        staff.audit(
            Action.AUTHENTICATOR_ENROLL,
            Outcome.FAILED,
            **outcome_fields,
            details={**contact_info, **error_details(exc)},
        )
        return EnrollResult(authenticators=before, problem=upstream_problem(exc))
    after = _authenticators_after(before, enrolled.authenticator)
    staff.audit(
        Action.AUTHENTICATOR_ENROLL,
        Outcome.SUCCEEDED,
        **outcome_fields,
        authenticator_id=enrolled.authenticator.user_authenticator_id,
        details={
            **contact_info,
            "before": before_described,
            "after": before_described + describe_all(after[len(before) :]),
        },
    )
    return EnrollResult(authenticator=enrolled.authenticator, authenticators=after)


def _authenticators_after(before: list[Authenticator], new: Authenticator) -> list[Authenticator]:
    if any(a.user_authenticator_id == new.user_authenticator_id for a in before):
        return before
    return [*before, new]


def _settle_unknown_enroll(
    staff: Staff,
    user_id: str,
    method: str,
    contact: dict[str, str],
    before: list[Authenticator],
    outcome_fields: dict[str, Any],
    contact_info: dict[str, str],
    exc: AuthsignalError,
) -> EnrollResult:
    """The enroll was sent but its answer was lost: look, rather than guess or re-send."""
    try:
        now = get_client().get_authenticators(user_id)
    except AuthsignalError:
        # Leave the `requested` row open: `manage.py audit reconcile` settles it later.
        return EnrollResult(
            authenticators=before,
            problem=Problem(
                "Authsignal did not answer, so we cannot tell whether the authenticator was added. "
                "Reload the user in a minute before trying again.",
                504,
            ),
        )
    found = duplicate_of(now, method, contact)
    if found:
        staff.audit(
            Action.AUTHENTICATOR_ENROLL,
            Outcome.SUCCEEDED,
            **outcome_fields,
            authenticator_id=found.user_authenticator_id,
            details={
                **contact_info,
                "before": describe_all(before),
                "after": describe_all(now),
                "settled_by_lookup": True,
            },
        )
        return EnrollResult(authenticator=found, authenticators=now)
    staff.audit(
        Action.AUTHENTICATOR_ENROLL,
        Outcome.FAILED,
        **outcome_fields,
        details={**contact_info, **error_details(exc)},
    )
    return EnrollResult(authenticators=now, problem=upstream_problem(exc))
