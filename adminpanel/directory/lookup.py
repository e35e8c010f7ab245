"""Finding users and looking at them: search, the user page, revealing a contact. All audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from adminpanel.audit.models import AuditEvent
from adminpanel.audit.services import Action, Outcome
from adminpanel.authsignal.connection import get_client
from adminpanel.authsignal.errors import AuthsignalError
from adminpanel.authsignal.types import Authenticator, User, UserAction, UserSummary
from adminpanel.core.masking import contact_digest, is_contact, mask_contact
from adminpanel.core.problems import Problem
from adminpanel.directory.audit_details import describe_all, error_details, error_details_from
from adminpanel.directory.problems import upstream_problem
from adminpanel.directory.staff import Staff

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

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


@dataclass(frozen=True, slots=True)
class StaffActionLine:
    """One staff action on a user as the user page lists it: its final outcome, not its write-ahead rows."""

    event_id: uuid.UUID  # the newest row of the action (its outcome, or the `requested` row if none yet)
    created_at: datetime
    actor_username: str
    action: str
    outcome: str
    reason: str
    ticket: str

    @property
    def pending(self) -> bool:
        """Only `requested` so far: still in flight, or left for `audit reconcile`."""
        return self.outcome == Outcome.REQUESTED


_LINE_FIELDS = ("id", "created_at", "actor_username", "action", "outcome", "reason", "ticket", "correlation_id")


def recent_staff_actions(user_id: str, limit: int = 10) -> list[StaffActionLine]:
    """This user's latest staff actions, newest first, one line per action (requested + outcome read as one).

    Page views are left out (every look at the page is one; the audit log has them): what an agent needs here is
    what was done to the user — enrollments, removals, overrides, reveals, refusals.
    """
    rows = (
        AuditEvent.objects.filter(user_id=user_id)
        .exclude(action=Action.USER_VIEW)
        .order_by("-seq")
        .values_list(*_LINE_FIELDS)[: limit * 3]
    )
    lines: dict[tuple[object, str], StaffActionLine] = {}
    for *fields, correlation_id in rows:  # newest first: the first row seen of an action is its final word
        key = (correlation_id, fields[3])
        if key not in lines:
            lines[key] = StaffActionLine(*fields)
    return list(lines.values())[:limit]


def refreshed_user(user_id: str) -> tuple[User | None, str]:
    """The user's profile read again after a change (not audited: the change itself is), or why it could not be."""
    try:
        return get_client().get_user(user_id), ""
    except AuthsignalError as exc:
        return None, str(exc)


REVEALABLE = {"email": "email", "phone_number": "phone", "user_id": "user id"}  # field -> how staff call it


def reveal_contact(staff: Staff, user_id: str, field_name: str) -> tuple[str | None, Problem | None]:
    """The full email, phone or contact-like user id of a user, audited; `field_name` is one of REVEALABLE."""
    if field_name == "user_id":
        # An id that is an email or phone is masked like one; revealing it needs no call, only the record.
        value = user_id if is_contact(user_id) else None
        _record_reveal(staff, user_id, field_name, value)
        return value, None
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
    _record_reveal(staff, user_id, field_name, value)
    return value, None


def _record_reveal(staff: Staff, user_id: str, field_name: str, value: str | None) -> None:
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
