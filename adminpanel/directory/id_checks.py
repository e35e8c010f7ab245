"""Ids the dashboard refuses before any call: too long for the audit log, or holding control characters."""

from __future__ import annotations

from adminpanel.audit.services import Outcome
from adminpanel.core.display import has_control_characters, visible
from adminpanel.core.masking import contact_digest
from adminpanel.core.problems import Problem
from adminpanel.directory.staff import Staff

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
