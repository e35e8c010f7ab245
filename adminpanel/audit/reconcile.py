"""Settles write-ahead `requested` events left without an outcome by asking Authsignal what happened."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from adminpanel.audit.models import Action, AuditEvent, Outcome
from adminpanel.audit.services import record, unresolved_requests
from adminpanel.core.masking import contact_digest

# The actions that change Authsignal and so write `requested` before the call; each is settled by looking.
SETTLED_ACTIONS = (Action.AUTHENTICATOR_ENROLL, Action.AUTHENTICATOR_REMOVE, Action.LOCKOUT_OVERRIDE)


@dataclass
class ReconcileReport:
    settled: list[tuple[int, str]] = field(default_factory=list)  # (requested seq, outcome appended)
    deferred: list[tuple[int, str]] = field(default_factory=list)  # (requested seq, why it was left)


def reconcile(older_than: dt.timedelta, *, limit: int = 1000) -> ReconcileReport:
    """For each stale `requested` enroll/remove: look at the user's authenticators now and append the outcome.

    An upstream error leaves the event for the next run. Other actions are reported, never guessed.
    """
    from adminpanel.authsignal.connection import get_client
    from adminpanel.authsignal.errors import AuthsignalError, NotFound

    report = ReconcileReport()
    client = get_client()
    for event in unresolved_requests(older_than)[:limit]:
        if event.action not in SETTLED_ACTIONS:
            report.deferred.append((event.seq, f"no reconciliation rule for {event.action}"))
            continue
        try:
            authenticators = client.get_authenticators(event.user_id)
        except NotFound:
            authenticators = []
        except AuthsignalError as exc:
            report.deferred.append((event.seq, f"Authsignal error, left for the next run: {exc}"))
            continue
        outcome, authenticator_id = _decide(event, authenticators)
        record(
            event.action,
            outcome,
            correlation_id=event.correlation_id,
            user_id=event.user_id,
            authenticator_id=authenticator_id or event.authenticator_id,
            verification_method=event.verification_method,
            reason=f"Reconciled: outcome of #{event.seq} read back from Authsignal",
            ticket=event.ticket,
            details={
                "reconciled": True,
                "requested_seq": event.seq,
                "after": [_describe(a) for a in authenticators],
            },
        )
        report.settled.append((event.seq, outcome))
    return report


def _authenticator_id(authenticator: Any) -> str:
    return str(getattr(authenticator, "user_authenticator_id", None) or getattr(authenticator, "id", "") or "")


def _describe(authenticator: Any) -> dict[str, str]:
    return {"id": _authenticator_id(authenticator), "method": str(authenticator.verification_method)}


def _decide(event: AuditEvent, authenticators: list[Any]) -> tuple[str, str]:
    if event.action in (Action.AUTHENTICATOR_REMOVE, Action.LOCKOUT_OVERRIDE):
        still_there = any(_authenticator_id(a) == event.authenticator_id for a in authenticators)
        return (Outcome.FAILED if still_there else Outcome.SUCCEEDED), event.authenticator_id
    details = event.details if isinstance(event.details, dict) else {}
    digest = details.get("contact_digest")
    same_method = [a for a in authenticators if str(a.verification_method) == event.verification_method]
    if digest:
        for a in same_method:
            credential = getattr(a, "webauthn_credential", None)
            contacts = (
                getattr(a, "email", None),
                getattr(a, "phone_number", None),
                getattr(credential, "credential_id", None),  # passkeys: the digest is of the credential id
            )
            if any(c and contact_digest(c) == digest for c in contacts):
                return Outcome.SUCCEEDED, _authenticator_id(a)
        return Outcome.FAILED, ""
    # No contact (a passkey): an authenticator of that method that was not there before is ours.
    before = {str(b.get("id")) for b in details.get("before", []) if isinstance(b, dict)}
    new = [a for a in same_method if _authenticator_id(a) not in before]
    if new and "before" in details:
        return Outcome.SUCCEEDED, _authenticator_id(new[0])
    return Outcome.FAILED, ""
