"""Removing an authenticator: confirmation token, per-user lock, fresh fetch, lockout guard, write-ahead audit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adminpanel.audit.services import Action, Outcome
from adminpanel.authsignal.connection import get_client
from adminpanel.authsignal.errors import AuthsignalError, RateLimited, Unavailable
from adminpanel.authsignal.types import Authenticator
from adminpanel.core.problems import Problem
from adminpanel.directory import confirmations, lockout
from adminpanel.directory.audit_details import describe, describe_all, error_details
from adminpanel.directory.locks import HeldLock, LockBusy, user_lock
from adminpanel.directory.methods import authenticator_label
from adminpanel.directory.problems import upstream_problem
from adminpanel.directory.staff import Staff

BUSY = "Someone else is changing this user's authenticators right now. Open the dialog again in a moment."


@dataclass
class RemovalPreview:
    target: Authenticator | None = None
    remaining: list[Authenticator] = field(default_factory=list)
    lockout: bool = False
    token: str = ""

    @property
    def remaining_not_counted(self) -> list[Authenticator]:
        return lockout.not_counted(self.remaining)

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
        lockout=lockout.would_lock_out(remaining),
        token=confirmations.issue(staff.user.pk, user_id, authenticator_id),
    )


@dataclass
class RemovalResult:
    removed: Authenticator | None = None
    remaining: list[Authenticator] = field(default_factory=list)
    already_gone: bool = False
    overridden: bool = False
    problem: Problem | None = None
    lockout_refused: bool = False  # refused only because nothing would remain to sign in with


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
    """The UI path: the confirmation token must be genuine, fresh, bound to this removal and unused.

    A correctable refusal (an override without its ticket) keeps the token, so the agent can fix and resend.
    """
    fields = {"user_id": user_id, "authenticator_id": authenticator_id, "reason": reason, "ticket": ticket}
    checked = confirmations.check(token, staff_id=staff.user.pk, user_id=user_id, authenticator_id=authenticator_id)
    if isinstance(checked, confirmations.TokenProblem):
        staff.audit(Action.AUTHENTICATOR_REMOVE, Outcome.DENIED, **fields, details={"refused": checked.code})
        return RemovalResult(problem=Problem(checked.message, 403))
    refused = _refuse_override(staff, fields, override_lockout)
    if refused:
        return refused
    replayed = confirmations.spend(checked)
    if replayed:
        staff.audit(Action.AUTHENTICATOR_REMOVE, Outcome.DENIED, **fields, details={"refused": replayed.code})
        return RemovalResult(problem=Problem(replayed.message, 403))
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
    refused = _refuse_override(staff, fields, override_lockout)
    if refused:
        return refused
    try:
        with user_lock(user_id) as lock:
            return _remove_locked(staff, fields, override_lockout, lock)
    except LockBusy:
        staff.audit(Action.AUTHENTICATOR_REMOVE, Outcome.FAILED, **fields, details={"refused": "busy"})
        return RemovalResult(problem=Problem(BUSY, 409))


def _refuse_override(staff: Staff, fields: dict[str, Any], override_lockout: bool) -> RemovalResult | None:
    """An override needs the permission, a reason and a ticket; every refusal is recorded."""
    if not override_lockout:
        return None
    if not staff.can("override_lockout"):
        staff.audit(Action.LOCKOUT_OVERRIDE, Outcome.DENIED, **fields, details={"refused": "permission"})
        return RemovalResult(problem=Problem("Your role may not override the lockout guard.", 403))
    if not fields["reason"] or not fields["ticket"]:
        staff.audit(Action.LOCKOUT_OVERRIDE, Outcome.DENIED, **fields, details={"refused": "no_ticket"})
        return RemovalResult(problem=Problem("An override needs a reason and a ticket.", 422))
    return None


def _remove_locked(staff: Staff, fields: dict[str, Any], override_lockout: bool, lock: HeldLock) -> RemovalResult:
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
    before_described = describe_all(before)
    described: dict[str, Any] = {"target": describe(target), "before": before_described}
    override = lockout.would_lock_out(remaining)
    if override and not override_lockout:
        staff.audit(
            Action.AUTHENTICATOR_REMOVE,
            Outcome.DENIED,
            **fields,
            details={**described, "refused": "lockout"},
        )
        return RemovalResult(
            remaining=before, problem=Problem(_lockout_message(staff, target, remaining), 409), lockout_refused=True
        )
    requested = staff.audit(
        Action.AUTHENTICATOR_REMOVE,
        Outcome.REQUESTED,
        **fields,
        details={**described, "lockout_override": override},
    )
    fields["correlation_id"] = requested.correlation_id
    if override:
        # Write-ahead like the removal itself: `requested` now, the real outcome once the DELETE has answered.
        staff.audit(Action.LOCKOUT_OVERRIDE, Outcome.REQUESTED, **fields, details=described)
    outcome = _Outcomes(staff, fields, override)
    if not lock.still_held():  # a lease outlived by a very slow Authsignal: another agent may be acting now
        outcome.failed({**described, "refused": "lock_lost"})
        return RemovalResult(remaining=before, problem=Problem(BUSY, 409))
    try:
        deleted = client.delete_authenticator(user_id, authenticator_id)
    except AuthsignalError as exc:
        if isinstance(exc, Unavailable | RateLimited):
            # An earlier attempt may have been applied with its answer lost: look before saying anything.
            return _settle_unknown_removal(outcome, target, before, remaining, described, exc)
        outcome.failed({**described, **error_details(exc)})
        return RemovalResult(remaining=before, problem=upstream_problem(exc))
    if deleted.already_gone and not deleted.after_retry:
        # Gone between our fetch and our delete: someone outside this dashboard removed it.
        outcome.failed({**described, "already_gone": True})
        return RemovalResult(remaining=remaining, already_gone=True)
    after = [item for item in before_described if item["id"] != target.user_authenticator_id]  # described once
    outcome.succeeded({**described, "after": after, "lockout_override": override})
    return RemovalResult(removed=target, remaining=remaining, overridden=override)


def _lockout_message(staff: Staff, target: Authenticator, remaining: list[Authenticator]) -> str:
    left = ""
    if remaining:  # e.g. only recovery codes: say why they do not count
        left = f" (what would remain, {', '.join(authenticator_label(a) for a in remaining)}, cannot sign in alone)"
    way_out = ", or override the lockout guard with a reason and a ticket." if staff.can("override_lockout") else "."
    return (
        f"Refused: {authenticator_label(target)} is this user's only way to sign in{left}. "
        f"Removing it would lock them out. Enroll another method first{way_out}"
    )


@dataclass
class _Outcomes:
    """Appends the outcome of a removal that reached `requested`, and of its override when there is one."""

    staff: Staff
    fields: dict[str, Any]
    override: bool

    def succeeded(self, details: dict[str, Any]) -> None:
        self._record(Outcome.SUCCEEDED, details)

    def failed(self, details: dict[str, Any]) -> None:
        self._record(Outcome.FAILED, details)

    def _record(self, outcome: str, details: dict[str, Any]) -> None:
        self.staff.audit(Action.AUTHENTICATOR_REMOVE, outcome, **self.fields, details=details)
        if self.override:
            self.staff.audit(Action.LOCKOUT_OVERRIDE, outcome, **self.fields, details=details)


def _settle_unknown_removal(
    outcome: _Outcomes,
    target: Authenticator,
    before: list[Authenticator],
    remaining: list[Authenticator],
    described: dict[str, Any],
    exc: AuthsignalError,
) -> RemovalResult:
    try:
        now = get_client().get_authenticators(outcome.fields["user_id"])
    except AuthsignalError:
        # Leave the `requested` rows open: `manage.py audit reconcile` settles them later.
        return RemovalResult(
            remaining=before,
            problem=Problem(
                "Authsignal did not answer, so we cannot tell whether the authenticator was removed. "
                "Reload the user in a minute before trying again.",
                504,
            ),
        )
    if any(a.user_authenticator_id == target.user_authenticator_id for a in now):
        outcome.failed({**described, **error_details(exc)})
        return RemovalResult(remaining=now, problem=upstream_problem(exc))
    outcome.succeeded(
        {**described, "after": describe_all(now), "lockout_override": outcome.override, "settled_by_lookup": True}
    )
    return RemovalResult(removed=target, remaining=now, overridden=outcome.override)
