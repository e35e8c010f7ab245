"""Removing an authenticator: confirmation token, per-user lock, fresh fetch, lockout guard, write-ahead audit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adminpanel.audit.services import Action, Outcome
from adminpanel.authsignal.connection import get_client
from adminpanel.authsignal.errors import AuthsignalError
from adminpanel.authsignal.types import Authenticator
from adminpanel.directory import confirmations
from adminpanel.directory.actions import Problem, Staff, describe, describe_all, error_details, upstream_problem
from adminpanel.directory.labels import authenticator_label
from adminpanel.directory.locks import LockBusy, user_lock


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
