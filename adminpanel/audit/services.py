"""Writing the audit log (the one way: record) and reading it (filters, keyset pages, chain status).

record() commits each event in its own short transaction that holds the chain-head lock. Call it outside
long transactions: inside an outer transaction.atomic() the event only commits with the outer block and the
lock is held until then, stalling every other writer. Write-ahead callers rely on the `requested` row being
committed before they call Authsignal, so they must not wrap the call in atomic().
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Substr
from django.utils import timezone

from adminpanel.audit import chain, keys
from adminpanel.audit.models import (
    GENESIS_HASH,
    TICKET_INDEX_PREFIX,
    Action,
    AuditEvent,
    ChainVerification,
    Outcome,
)
from adminpanel.core.client_ip import client_ip as _client_ip

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

__all__ = [
    "DENIED",
    "FAILED",
    "REQUESTED",
    "SUCCEEDED",
    "Action",
    "AuditEvent",
    "Outcome",
    "record",
]

REQUESTED, SUCCEEDED, FAILED, DENIED = Outcome.REQUESTED, Outcome.SUCCEEDED, Outcome.FAILED, Outcome.DENIED

# pg_advisory_xact_lock key for the chain head ("audit" in ASCII); every appender takes it.
CHAIN_LOCK_ID = 0x6175646974
USER_AGENT_MAX = 512
SYSTEM_ACTOR = "system"


def record(
    action: str,
    outcome: str,
    *,
    request: HttpRequest | None = None,
    actor: AbstractBaseUser | None = None,
    correlation_id: uuid.UUID | None = None,
    user_id: str = "",
    authenticator_id: str = "",
    verification_method: str = "",
    reason: str = "",
    ticket: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Appends one event to the chain and returns it (committed, unless inside an outer atomic block).

    `request` supplies the actor (if signed in), IP, user agent and request id. The returned event always
    has a correlation_id (a new one if none was given): pass it to the outcome event of a `requested` one.
    """
    outcome = Outcome(outcome).value
    if not action or len(action) > 64:
        raise ValueError(f"audit action must be a short dotted name, not {action!r}")
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    event = AuditEvent(
        id=uuid.uuid4(),
        actor_id=actor.pk if actor is not None else None,
        # No actor and no request: a command, a worker or a migration acted on its own.
        actor_username=chain.clean_text(
            actor.get_username() if actor is not None else ("" if request is not None else SYSTEM_ACTOR)
        )[:150],
        actor_ip=_client_ip(request) if request is not None else "",
        actor_user_agent=chain.clean_text(request.META.get("HTTP_USER_AGENT", ""))[:USER_AGENT_MAX]
        if request is not None
        else "",
        request_id=chain.clean_text(getattr(request, "request_id", ""))[:64] if request is not None else "",
        action=chain.clean_text(action),
        outcome=outcome,
        correlation_id=correlation_id or uuid.uuid4(),
        user_id=chain.clean_text(user_id),
        authenticator_id=chain.clean_text(authenticator_id),
        verification_method=chain.clean_text(verification_method),
        reason=chain.clean_text(reason),
        ticket=chain.clean_text(ticket),
        details=chain.clean_json(details or {}),
    )
    with transaction.atomic(using=DEFAULT_DB_ALIAS):
        head = lock_chain_head()
        starts_segment = event.action == Action.KEY_ROTATED and event.outcome == SUCCEEDED
        if head.seq == 0 and not starts_segment and keys.key_for(head.key_id) is None:
            # A chain begun with AUDIT_CHAIN_KEYS alone: its first event opens the newest key's segment.
            opening = AuditEvent(
                id=uuid.uuid4(),
                action=Action.KEY_ROTATED,
                outcome=SUCCEEDED,
                correlation_id=uuid.uuid4(),
                details={"source": "first event of the chain"},
            )
            head = _append(opening, head, _open_segment(opening, head))
        key = _open_segment(event, head) if starts_segment else keys.key_for(head.key_id)
        if key is None:
            raise keys.ChainKeyMissing(
                f"the audit chain's current segment is signed by key id {head.key_id!r}, which is not configured: "
                "add it to AUDIT_CHAIN_KEYS, or start a new segment with `manage.py audit rotate-key`"
            )
        _append(event, head, key)
    return event


class KeyRotationRefused(Exception):
    """There is no newer key to rotate to."""


def _open_segment(event: AuditEvent, head: ChainHead) -> bytes:
    """Makes `event` the first of a segment under the newest key: records the key id (never the key)."""
    new_key_id = keys.newest_key_id()
    if new_key_id == head.key_id:
        raise KeyRotationRefused(
            f"the chain already signs with the newest configured key ({new_key_id!r}): add a new id:key pair at the "
            "end of AUDIT_CHAIN_KEYS first"
        )
    event.details = {
        **event.details,
        "key_id": new_key_id,
        "previous_key_id": head.key_id if head.seq else None,
        "previous_head_seq": head.seq,
        "previous_head_hash": head.hash,
    }
    return keys.chain_keys()[new_key_id]


def _append(event: AuditEvent, head: ChainHead, key: bytes) -> ChainHead:
    now = timezone.now()
    event.seq = head.seq + 1
    # Time never runs backwards along the chain, so a date range maps onto a seq range.
    event.created_at = now if head.created_at is None or now > head.created_at else head.created_at
    event.prev_hash = head.hash
    event.hash = chain.compute_hash(head.hash, chain.event_values(event), key=key)
    event.save(force_insert=True)
    key_id = chain.segment_key_id(event.action, event.outcome, event.details) or head.key_id
    return ChainHead(event.seq, event.hash, event.created_at, key_id)


def rotate_key(*, actor: AbstractBaseUser | None = None, reason: str = "", source: str = "command") -> AuditEvent:
    """`audit rotate-key`: the next events are signed by the newest configured key. A refusal is recorded too."""
    try:
        return record(Action.KEY_ROTATED, SUCCEEDED, actor=actor, reason=reason, details={"source": source})
    except KeyRotationRefused as exc:
        record(Action.KEY_ROTATED, FAILED, actor=actor, reason=reason, details={"source": source, "error": str(exc)})
        raise


class ChainHead(NamedTuple):
    seq: int
    hash: str
    created_at: dt.datetime | None
    key_id: str  # the key that signs the current segment


def lock_chain_head() -> ChainHead:
    """Inside a transaction: take the chain lock, then read the head (seq, hash, created_at, its segment's key id).

    PostgreSQL: a transaction-scoped advisory lock (released at commit); READ COMMITTED then reads the head
    the previous holder committed. SQLite: the IMMEDIATE transaction already holds the database write lock.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor == "postgresql":
        # One round trip: lock, then read the head with a fresh snapshot (migration audit/0005 explains why).
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM audit_lock_chain_head(%s, %s)", [CHAIN_LOCK_ID, Action.KEY_ROTATED])
            row = cursor.fetchone()
        if row is None:
            return ChainHead(0, GENESIS_HASH, None, keys.DEFAULT_KEY_ID)
        return ChainHead(row[0], row[1], row[2], row[3] or keys.DEFAULT_KEY_ID)
    # The segment's key id comes along in the same query (an index seek on (action, seq)).
    latest_rotation = (
        AuditEvent.objects.filter(action=Action.KEY_ROTATED, outcome=SUCCEEDED)
        .order_by("-seq")
        .annotate(key_id=KT("details__key_id"))
        .values("key_id")[:1]
    )
    head = (
        AuditEvent.objects.order_by("-seq")
        .annotate(segment_key_id=Subquery(latest_rotation, output_field=CharField()))
        .values_list("seq", "hash", "created_at", "segment_key_id")
        .first()
    )
    if head is None:
        return ChainHead(0, GENESIS_HASH, None, keys.DEFAULT_KEY_ID)
    return ChainHead(head[0], head[1], head[2], head[3] or keys.DEFAULT_KEY_ID)


# --- Reading: filters and keyset pages ---


@dataclass(frozen=True)
class EventFilter:
    actor: str = ""
    user_id: str = ""
    action: str = ""
    outcome: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    ticket: str = ""
    q: str = ""

    def as_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v not in ("", None)}


def filtered_events(f: EventFilter) -> QuerySet[AuditEvent]:
    """The events matching a filter, unordered. Each condition is served by a (field, seq) index."""
    qs = AuditEvent.objects.all()
    if f.actor:
        qs = qs.filter(actor_username=f.actor)
    if f.user_id:
        qs = qs.filter(user_id=f.user_id)
    if f.action:
        qs = qs.filter(action=f.action)
    if f.outcome:
        qs = qs.filter(outcome=f.outcome)
    if f.ticket:
        qs = qs.alias(ticket_prefix=Substr("ticket", 1, TICKET_INDEX_PREFIX)).filter(
            ticket_prefix=f.ticket[:TICKET_INDEX_PREFIX], ticket=f.ticket
        )
    if f.q:
        qs = qs.filter(reason__icontains=f.q)
    if f.date_from or f.date_to:
        low, high = seq_range_for_dates(f.date_from, f.date_to)
        qs = qs.filter(seq__gte=low, seq__lte=high)
    return qs


def seq_range_for_dates(date_from: dt.date | None, date_to: dt.date | None) -> tuple[int, int]:
    """Maps an inclusive UTC date range onto seq bounds (created_at never decreases along the chain)."""
    events = AuditEvent.objects.all()
    low, high = 1, 2**62
    if date_from:
        start = dt.datetime.combine(date_from, dt.time.min, tzinfo=dt.UTC)
        first = events.filter(created_at__gte=start).order_by("created_at", "seq").values_list("seq", flat=True)[:1]
        low = next(iter(first), high + 1)
    if date_to:
        end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        last = events.filter(created_at__lt=end).order_by("-created_at", "-seq").values_list("seq", flat=True)[:1]
        high = next(iter(last), 0)
    return low, high


@dataclass
class EventPage:
    events: list[AuditEvent]
    newer_cursor: int | None  # ?after=<seq> shows the page of newer events
    older_cursor: int | None  # ?before=<seq> shows the page of older events


def event_page(
    qs: QuerySet[AuditEvent], *, before: int | None = None, after: int | None = None, size: int = 50
) -> EventPage:
    """One page, newest first, by keyset on seq: every page costs the same, there is no COUNT(*)."""
    if after is not None:
        rows = list(qs.filter(seq__gt=after).order_by("seq")[: size + 1])
        has_newer = len(rows) > size
        events = rows[:size][::-1]
        has_older = bool(events) and qs.filter(seq__lte=after).exists()
        if not events:  # nothing newer: show the newest page instead of an empty one
            return event_page(qs, size=size)
    else:
        base = qs.filter(seq__lt=before) if before is not None else qs
        rows = list(base.order_by("-seq")[: size + 1])
        has_older = len(rows) > size
        events = rows[:size]
        has_newer = before is not None and qs.filter(seq__gte=before).exists()
    return EventPage(
        events=events,
        newer_cursor=events[0].seq if events and has_newer else None,
        older_cursor=events[-1].seq if events and has_older else None,
    )


def correlated_events(event: AuditEvent) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(correlation_id=event.correlation_id).order_by("seq"))


@dataclass
class ChainPosition:
    prev: AuditEvent | None
    next: AuditEvent | None
    hash_ok: bool | None  # None: the key of its segment is not configured
    links_ok: bool


def chain_position(event: AuditEvent) -> ChainPosition:
    neighbours = {e.seq: e for e in AuditEvent.objects.filter(seq__in=[event.seq - 1, event.seq + 1])}
    prev = neighbours.get(event.seq - 1)
    expected_prev = prev.hash if prev is not None else (GENESIS_HASH if event.seq == 1 else None)
    return ChainPosition(
        prev=prev,
        next=neighbours.get(event.seq + 1),
        hash_ok=chain.event_hash_ok(event),
        links_ok=expected_prev is not None and expected_prev == event.prev_hash,
    )


# --- Verification runs ---


def run_verification(
    *, source: str, triggered_by: str = "", checkpoint: dict[str, Any] | None = None
) -> ChainVerification:
    """Verifies the whole chain and stores the result (outside the audit table)."""
    started = timezone.now()
    result = chain.verify_chain(checkpoint=checkpoint)
    return ChainVerification.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        ok=result.ok,
        events_checked=result.events_checked,
        head_seq=result.head_seq,
        head_hash=result.head_hash,
        first_bad_seq=result.first_bad_seq,
        message=result.summary(),
        source=source,
        triggered_by=triggered_by,
    )


def last_verification() -> ChainVerification | None:
    return ChainVerification.objects.order_by("-finished_at").first()


def chain_checkpoint() -> dict[str, Any]:
    """The chain head, to be kept outside the database: verify --checkpoint then detects a rewritten tail."""
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, head_hash = head if head else (0, GENESIS_HASH)
    return {
        "seq": seq,
        "hash": head_hash,
        "count": AuditEvent.objects.count(),
        "time": chain.timestamp(timezone.now()),
        # Where each key's segment starts: lets `verify --file` check a filtered export against the right key.
        "segments": [[first_seq, key_id] for first_seq, key_id in chain.segment_starts() if first_seq <= max(seq, 1)],
    }


def unresolved_requests(older_than: dt.timedelta) -> QuerySet[AuditEvent]:
    """`requested` events older than the threshold with no outcome of the same action sharing their correlation id.

    One correlation id can tie several actions together (a removal and its lockout override): each `requested`
    row is settled only by an outcome of its own action.
    """
    outcome = AuditEvent.objects.filter(correlation_id=OuterRef("correlation_id"), action=OuterRef("action")).filter(
        ~Q(outcome=REQUESTED)
    )
    return (
        AuditEvent.objects.filter(outcome=REQUESTED, created_at__lt=timezone.now() - older_than)
        .filter(~Exists(outcome))
        .order_by("seq")
    )
