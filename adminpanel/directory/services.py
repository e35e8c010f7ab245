"""The support desk's rules: search, view, enroll with duplicate check, remove under lock with the lockout guard.

Views and bulk jobs call these; every staff action goes through `audit.record` here, with write-ahead rows
(`requested` committed before any call that changes Authsignal, the outcome after it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from adminpanel.accounts.roles import perm
from adminpanel.audit.models import AuditEvent
from adminpanel.audit.services import Action, Outcome, record
from adminpanel.authsignal.connection import get_client
from adminpanel.authsignal.errors import AuthsignalError, RateLimited, Unavailable
from adminpanel.authsignal.types import Authenticator, User, UserAction, UserSummary
from adminpanel.core.masking import contact_digest, mask_contact
from adminpanel.directory import confirmations
from adminpanel.directory.labels import authenticator_label
from adminpanel.directory.locks import LockBusy, user_lock

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Staff:
    """Who acts, and the request they act through (None for background jobs)."""

    user: AbstractBaseUser
    request: HttpRequest | None = None

    def can(self, codename: str) -> bool:
        return self.user.has_perm(perm(codename))

    def audit(self, action: str, outcome: str, **fields: Any):  # type: ignore[no-untyped-def]
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


def oversized_user_id(staff: Staff, user_id: str, action: str) -> Problem | None:
    """Refuses (and records) a user id longer than the dashboard can keep in its audit log, before any call."""
    if len(user_id) <= MAX_USER_ID:
        return None
    staff.audit(
        action,
        Outcome.DENIED,
        user_id=user_id[: MAX_USER_ID - 1] + "…",
        details={"refused": "user_id_too_long", "length": len(user_id), "user_id_digest": contact_digest(user_id)},
    )
    return Problem(
        f"That user id is {len(user_id):,} characters long; this dashboard handles ids of up to {MAX_USER_ID}.", 400
    )


# --- search -----------------------------------------------------------------------------------------------


@dataclass
class SearchResult:
    users: list[UserSummary] = field(default_factory=list)
    exact_id_match: User | None = None
    next_cursor: str | None = None
    problem: Problem | None = None

    @property
    def empty(self) -> bool:
        return not self.users and self.exact_id_match is None


def search_users(staff: Staff, *, kind: str, value: str, cursor: str | None = None) -> SearchResult:
    """Email → by email, phone → by phone, anything else → by username and by exact user id."""
    client = get_client()
    result = SearchResult()
    try:
        if kind == "email":
            page = client.query_users(email=value, cursor=cursor, limit=25)
        elif kind == "phone":
            page = client.query_users(phone_number=value, cursor=cursor, limit=25)
        else:
            page = client.query_users(username=value, cursor=cursor, limit=25)
        result.users, result.next_cursor = list(page.users), page.next_cursor
        if not cursor and not any(u.user_id == value for u in result.users):
            user = client.get_user(value)
            if exists(user):
                result.exact_id_match = user
    except AuthsignalError as exc:
        result.problem = upstream_problem(exc)
    staff.audit(
        Action.USER_SEARCH,
        Outcome.FAILED if result.problem else Outcome.SUCCEEDED,
        details={
            "query": mask_contact(value) if kind in ("email", "phone") else _mask_free_text(value),
            "query_digest": contact_digest(value),
            "kind": kind,
            "page": bool(cursor),
            "results": len(result.users) + (1 if result.exact_id_match else 0),
            **(error_details_from(result.problem) if result.problem else {}),
        },
    )
    return result


def _mask_free_text(value: str) -> str:
    # Usernames and ids can be personal data too: keep enough to recognise, not to reuse.
    return value if len(value) <= 3 else f"{value[:2]}…{value[-1]}"


def error_details_from(problem: Problem) -> dict[str, Any]:
    return {"error": {"message": problem.message, "status": problem.status}}


def exists(user: User) -> bool:
    """GET /users answers 200 `isEnrolled:false` for an unknown id; a known user has something besides."""
    return user.is_enrolled or any(
        (user.email, user.phone_number, user.username, user.display_name, user.custom, user.locale)
    )


# --- user detail ------------------------------------------------------------------------------------------


@dataclass
class UserDetail:
    user_id: str
    user: User | None = None
    authenticators: list[Authenticator] = field(default_factory=list)
    activity: list[UserAction] | None = None
    activity_problem: str | None = None
    problem: Problem | None = None

    @property
    def found(self) -> bool:
        return self.user is not None and (exists(self.user) or bool(self.authenticators))


def load_user(staff: Staff, user_id: str, *, audit: bool = True) -> UserDetail:
    client = get_client()
    detail = UserDetail(user_id)
    try:
        detail.user = client.get_user(user_id)
        detail.authenticators = client.get_authenticators(user_id)
    except AuthsignalError as exc:
        detail.problem = upstream_problem(exc)
    if detail.found:
        try:
            detail.activity = sorted(
                client.get_user_actions(user_id), key=lambda a: a.created_at or _EPOCH, reverse=True
            )[:15]
        except AuthsignalError as exc:
            detail.activity_problem = str(exc)
    if audit:
        outcome = Outcome.FAILED if detail.problem else Outcome.SUCCEEDED
        details: dict[str, Any] = {
            "found": detail.found,
            "authenticators": describe_all(detail.authenticators),
        }
        if detail.problem:
            details.update(error_details_from(detail.problem))
        staff.audit(Action.USER_VIEW, outcome, user_id=user_id, details=details)
    return detail


def recent_audit_events(user_id: str, limit: int = 10) -> list[AuditEvent]:
    """This user's latest audit events, newest first, for the user page."""
    return list(AuditEvent.objects.filter(user_id=user_id).order_by("-seq")[:limit])


def reveal_contact(staff: Staff, user_id: str, field_name: str) -> tuple[str | None, Problem | None]:
    """The full email or phone of a user, audited; `field_name` is "email" or "phone_number"."""
    try:
        user = get_client().get_user(user_id)
    except AuthsignalError as exc:
        staff.audit(
            Action.PII_REVEAL,
            Outcome.FAILED,
            user_id=user_id,
            details={"field": field_name, **error_details(exc)},
        )
        return None, upstream_problem(exc)
    value = getattr(user, field_name)
    staff.audit(
        Action.PII_REVEAL,
        Outcome.SUCCEEDED if value else Outcome.FAILED,
        user_id=user_id,
        details={
            "field": field_name,
            "value": mask_contact(value) if value else None,
            "value_digest": contact_digest(value) if value else None,
        },
    )
    return value, None


# --- enroll -----------------------------------------------------------------------------------------------


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
        message = (
            f"This user already has {authenticator_label(duplicate)} (added "
            f"{duplicate.created_at:%d %b %Y} ). Nothing was sent to Authsignal."
            if duplicate.created_at
            else f"This user already has {authenticator_label(duplicate)}. Nothing was sent to Authsignal."
        )
        staff.audit(
            Action.AUTHENTICATOR_ENROLL,
            Outcome.DENIED,
            **audit_fields,
            authenticator_id=duplicate.user_authenticator_id,
            details={**contact_info, "refused": "duplicate", "before": describe_all(before)},
        )
        return EnrollResult(authenticators=before, problem=Problem(message, 409))

    requested = staff.audit(
        Action.AUTHENTICATOR_ENROLL,
        Outcome.REQUESTED,
        **audit_fields,
        details={**contact_info, "before": describe_all(before)},
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
        details={**contact_info, "before": describe_all(before), "after": describe_all(after)},
    )
    return EnrollResult(authenticator=enrolled.authenticator, authenticators=after)


def _authenticators_after(before: list[Authenticator], new: Authenticator) -> list[Authenticator]:
    if any(a.user_authenticator_id == new.user_authenticator_id for a in before):
        return before
    return [*before, new]


def _settle_unknown_enroll(  # type: ignore[no-untyped-def]
    staff: Staff, user_id, method, contact, before, outcome_fields, contact_info, exc: AuthsignalError
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


# --- remove -----------------------------------------------------------------------------------------------


@dataclass
class RemovalPreview:
    target: Authenticator | None = None
    remaining: list[Authenticator] = field(default_factory=list)
    lockout: bool = False
    token: str = ""
    problem: Problem | None = None


def preview_removal(staff: Staff, user_id: str, authenticator_id: str) -> RemovalPreview:
    """What a removal would do, for the confirmation dialog, with a token bound to exactly this removal."""
    try:
        current = get_client().get_authenticators(user_id)
    except AuthsignalError as exc:
        return RemovalPreview(problem=upstream_problem(exc))
    target = next((a for a in current if a.user_authenticator_id == authenticator_id), None)
    if target is None:
        return RemovalPreview(
            remaining=current,
            problem=Problem("This authenticator is not (or no longer) on this user's account in Authsignal.", 404),
        )
    remaining = [a for a in current if a is not target]
    return RemovalPreview(
        target=target,
        remaining=remaining,
        lockout=not remaining,
        token=confirmations.issue(staff.user.pk, user_id, authenticator_id),
    )


@dataclass
class RemovalResult:
    removed: Authenticator | None = None
    remaining: list[Authenticator] = field(default_factory=list)
    already_gone: bool = False
    overridden: bool = False
    problem: Problem | None = None


def confirm_removal(
    staff: Staff,
    user_id: str,
    authenticator_id: str,
    *,
    token: str,
    reason: str,
    ticket: str = "",
    override_lockout: bool = False,
) -> RemovalResult:
    """The UI path: the confirmation token must be genuine, fresh, bound to this removal and unused."""
    fields = {"user_id": user_id, "authenticator_id": authenticator_id, "reason": reason, "ticket": ticket}
    checked = confirmations.check(token, staff_id=staff.user.pk, user_id=user_id, authenticator_id=authenticator_id)
    problem = checked if isinstance(checked, confirmations.TokenProblem) else confirmations.spend(checked)
    if problem:
        staff.audit(Action.AUTHENTICATOR_REMOVE, Outcome.DENIED, **fields, details={"refused": problem.code})
        return RemovalResult(problem=Problem(problem.message, 403))
    return remove_authenticator(
        staff, user_id, authenticator_id, reason=reason, ticket=ticket, override_lockout=override_lockout
    )


def remove_authenticator(
    staff: Staff,
    user_id: str,
    authenticator_id: str,
    *,
    reason: str,
    ticket: str = "",
    override_lockout: bool = False,
) -> RemovalResult:
    """Fetch → lockout check → delete → record, all under the per-user lock. Bulk jobs call this too."""
    fields: dict[str, Any] = {
        "user_id": user_id,
        "authenticator_id": authenticator_id,
        "reason": reason,
        "ticket": ticket,
    }
    if override_lockout and not staff.can("override_lockout"):
        staff.audit(Action.LOCKOUT_OVERRIDE, Outcome.DENIED, **fields, details={"refused": "permission"})
        return RemovalResult(problem=Problem("Your role may not override the lockout guard.", 403))
    try:
        with user_lock(user_id):
            return _remove_locked(staff, fields, override_lockout)
    except LockBusy:
        staff.audit(Action.AUTHENTICATOR_REMOVE, Outcome.FAILED, **fields, details={"refused": "busy"})
        return RemovalResult(
            problem=Problem("Someone else is changing this user's authenticators right now. Try again.", 409)
        )


def _remove_locked(staff: Staff, fields: dict[str, Any], override_lockout: bool) -> RemovalResult:
    client = get_client()
    user_id, authenticator_id = fields["user_id"], fields["authenticator_id"]
    try:
        before = client.get_authenticators(user_id)
    except AuthsignalError as exc:
        staff.audit(Action.AUTHENTICATOR_REMOVE, Outcome.FAILED, **fields, details=error_details(exc))
        return RemovalResult(problem=upstream_problem(exc))
    target = next((a for a in before if a.user_authenticator_id == authenticator_id), None)
    if target is None:
        staff.audit(
            Action.AUTHENTICATOR_REMOVE,
            Outcome.FAILED,
            **fields,
            details={"already_gone": True, "before": describe_all(before)},
        )
        return RemovalResult(remaining=before, already_gone=True)
    remaining = [a for a in before if a is not target]
    fields["verification_method"] = target.verification_method
    described = {"target": describe(target), "before": describe_all(before)}
    if not remaining:
        if not override_lockout:
            staff.audit(
                Action.AUTHENTICATOR_REMOVE,
                Outcome.DENIED,
                **fields,
                details={**described, "refused": "lockout"},
            )
            return RemovalResult(
                remaining=before,
                problem=Problem(
                    f"Refused: {authenticator_label(target)} is this user's only way to sign in. "
                    "Removing it would lock them out. Enroll another method first"
                    + (
                        ", or override the lockout guard with a reason and a ticket."
                        if staff.can("override_lockout")
                        else "."
                    ),
                    409,
                ),
            )
        if not fields["reason"] or not fields["ticket"]:
            staff.audit(
                Action.LOCKOUT_OVERRIDE,
                Outcome.DENIED,
                **fields,
                details={**described, "refused": "no_ticket"},
            )
            return RemovalResult(remaining=before, problem=Problem("An override needs a reason and a ticket.", 422))
    requested = staff.audit(
        Action.AUTHENTICATOR_REMOVE,
        Outcome.REQUESTED,
        **fields,
        details={**described, "lockout_override": not remaining},
    )
    fields["correlation_id"] = requested.correlation_id
    if not remaining:
        staff.audit(Action.LOCKOUT_OVERRIDE, Outcome.SUCCEEDED, **fields, details=described)
    try:
        deleted = client.delete_authenticator(user_id, authenticator_id)
    except AuthsignalError as exc:
        staff.audit(Action.AUTHENTICATOR_REMOVE, Outcome.FAILED, **fields, details={**described, **error_details(exc)})
        return RemovalResult(remaining=before, problem=upstream_problem(exc))
    if deleted.already_gone and not deleted.after_retry:
        # Gone between our fetch and our delete: someone outside this dashboard removed it.
        staff.audit(Action.AUTHENTICATOR_REMOVE, Outcome.FAILED, **fields, details={**described, "already_gone": True})
        return RemovalResult(remaining=remaining, already_gone=True)
    staff.audit(
        Action.AUTHENTICATOR_REMOVE,
        Outcome.SUCCEEDED,
        **fields,
        details={**described, "after": describe_all(remaining), "lockout_override": not remaining},
    )
    return RemovalResult(removed=target, remaining=remaining, overridden=not remaining)
