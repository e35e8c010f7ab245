"""Settles write-ahead `requested` events left without an outcome (a crash between the call and its record).

Each action that writes `requested` registers a settler next to the service it settles (the support desk's in
`directory/settlement.py`, Verify now's here). A settler looks at the world as it is now and answers the outcome
to append, or None with a reason to leave the event for the next run. Nothing is ever guessed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adminpanel.audit.models import Action, AuditEvent, JobStatus, Outcome, VerificationRequest
from adminpanel.audit.services import record, unresolved_requests


@dataclass
class Settlement:
    """What a settler found: the outcome to append, and what it saw (added to the outcome's details)."""

    outcome: str
    authenticator_id: str = ""
    details: dict[str, Any] = field(default_factory=dict)


class Deferred(Exception):  # noqa: N818 - a decision, not an error
    """Raised by a settler that cannot tell yet (Authsignal down, a run still going): try again next run."""


Settler = Callable[[AuditEvent], Settlement]
_SETTLERS: dict[str, Settler] = {}


def settles(action: str) -> Callable[[Settler], Settler]:
    """Registers the settler of one action."""

    def register(settler: Settler) -> Settler:
        _SETTLERS[action] = settler
        return settler

    return register


def settled_actions() -> tuple[str, ...]:
    return tuple(sorted(_SETTLERS))


@dataclass
class ReconcileReport:
    settled: list[tuple[int, str]] = field(default_factory=list)  # (requested seq, outcome appended)
    deferred: list[tuple[int, str]] = field(default_factory=list)  # (requested seq, why it was left)


def reconcile(older_than: dt.timedelta, *, limit: int = 1000) -> ReconcileReport:
    """For each stale `requested` event: ask its action's settler what happened and append that outcome."""
    report = ReconcileReport()
    for event in unresolved_requests(older_than)[:limit]:
        settler = _SETTLERS.get(event.action)
        if settler is None:
            report.deferred.append((event.seq, f"no reconciliation rule for {event.action}"))
            continue
        try:
            found = settler(event)
        except Deferred as why:
            report.deferred.append((event.seq, str(why)))
            continue
        record(
            event.action,
            found.outcome,
            correlation_id=event.correlation_id,
            user_id=event.user_id,
            authenticator_id=found.authenticator_id or event.authenticator_id,
            verification_method=event.verification_method,
            reason=f"Reconciled: outcome of #{event.seq} read back",
            ticket=event.ticket,
            details={"reconciled": True, "requested_seq": event.seq, **found.details},
        )
        report.settled.append((event.seq, found.outcome))
    return report


@settles(Action.AUDIT_VERIFY)
def _settle_verification(event: AuditEvent) -> Settlement:
    """A Verify now click whose worker never recorded the result: read it from the run it started."""
    run = VerificationRequest.objects.filter(pk=event.correlation_id).select_related("verification").first()
    if run is None:
        return Settlement(Outcome.FAILED, details={"error": "the verification run is gone"})
    if run.status == JobStatus.DONE and run.verification is not None:
        outcome = Outcome.SUCCEEDED if run.verification.ok else Outcome.FAILED
        return Settlement(outcome, details={"head_seq": run.verification.head_seq})
    if run.status in (JobStatus.FAILED, JobStatus.EXPIRED):
        return Settlement(Outcome.FAILED, details={"error": run.error[:500]})
    raise Deferred(f"the verification is still {run.status}")
