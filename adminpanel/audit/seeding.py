"""Synthetic audit events for demos and benchmarks, bulk-inserted with a correctly computed chain."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from adminpanel.audit import chain
from adminpanel.audit.models import Action, AuditEvent, Outcome
from adminpanel.audit.services import lock_chain_head

SYNTHETIC_PREFIX = "synthetic."
ACTORS = [f"{SYNTHETIC_PREFIX}agent{n:02d}" for n in range(1, 41)]
ACTIONS = [
    (Action.USER_SEARCH, 30),
    (Action.USER_VIEW, 30),
    (Action.PII_REVEAL, 8),
    (Action.AUTHENTICATOR_ENROLL, 10),
    (Action.AUTHENTICATOR_REMOVE, 10),
    (Action.LOCKOUT_OVERRIDE, 1),
    (Action.STAFF_LOGIN, 6),
    (Action.STAFF_LOGOUT, 3),
    (Action.ACCESS_DENIED, 1),
    (Action.AUDIT_EXPORT, 1),
]
REASONS = [
    "Customer lost their phone",
    "Customer got a new laptop",
    "Suspected account takeover",
    "Duplicate authenticator clean-up",
    "Customer request via chat",
    "Employee offboarding",
    "Fraud team escalation",
    "Number ported to another carrier",
    "",
]
METHODS = ["SMS", "EMAIL_OTP", "EMAIL_MAGIC_LINK", "PASSKEY"]
INTERVAL = dt.timedelta(seconds=3)


class RealEventsPresent(Exception):
    """The log already holds real events: synthetic ones would pollute the record of truth."""


def has_real_events() -> bool:
    return AuditEvent.objects.exclude(actor_username__startswith=SYNTHETIC_PREFIX).exists()


def seed(
    count: int, *, batch_size: int = 10_000, rng_seed: int = 1, progress: Callable[[int], None] | None = None
) -> int:
    """Appends `count` synthetic events (actor 'synthetic.*', details.synthetic=true); returns the head."""
    if has_real_events():
        raise RealEventsPresent("the audit log holds real events; refusing to add synthetic ones")
    rng = random.Random(rng_seed)
    actions = [a for a, _ in ACTIONS]
    weights = [w for _, w in ACTIONS]
    start = timezone.now() - INTERVAL * count
    done = 0
    head_seq = 0
    while done < count:
        n = min(batch_size, count - done)
        with transaction.atomic(using=DEFAULT_DB_ALIAS):
            head_seq, prev_hash, head_time = lock_chain_head()
            t = max(start + INTERVAL * done, head_time or start)
            events = []
            for i in range(n):
                t += INTERVAL
                seq = head_seq + i + 1
                action = rng.choices(actions, weights)[0]
                outcome = _outcome(rng, action)
                method = rng.choice(METHODS) if action.startswith("authenticator.") else ""
                ticket = f"SUP-{rng.randrange(1, 200_000)}" if rng.random() < 0.3 else ""
                event = AuditEvent(
                    id=uuid.UUID(int=rng.getrandbits(128), version=4),
                    seq=seq,
                    created_at=t,
                    actor_id=None,
                    actor_username=rng.choice(ACTORS),
                    actor_ip=f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                    actor_user_agent="Mozilla/5.0 (synthetic)",
                    request_id=f"{rng.getrandbits(64):016x}",
                    action=action,
                    outcome=outcome,
                    correlation_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                    user_id=f"user-{rng.randrange(1, 50_000)}" if action != Action.STAFF_LOGIN else "",
                    authenticator_id=f"auth-{rng.getrandbits(40):010x}" if method else "",
                    verification_method=method,
                    reason=rng.choice(REASONS) if action.startswith(("authenticator.", "pii.", "lockout.")) else "",
                    ticket=ticket,
                    details={"synthetic": True, "n": seq},
                    prev_hash=prev_hash,
                )
                event.hash = prev_hash = chain.compute_hash(prev_hash, chain.event_values(event))
                events.append(event)
            _insert(events)
            head_seq = events[-1].seq
        done += n
        if progress is not None:
            progress(done)
    return head_seq


def _outcome(rng: random.Random, action: str) -> str:
    if action == Action.ACCESS_DENIED:
        return Outcome.DENIED
    roll = rng.random()
    if action.startswith("authenticator."):
        return Outcome.REQUESTED if roll < 0.5 else (Outcome.SUCCEEDED if roll < 0.95 else Outcome.FAILED)
    return Outcome.SUCCEEDED if roll < 0.97 else Outcome.FAILED


_COLUMNS = [f.column for f in AuditEvent._meta.concrete_fields]


def _insert(events: list[AuditEvent]) -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        AuditEvent.objects.bulk_create(events, batch_size=500)
        return
    # COPY is several times faster than multi-row INSERTs for a million rows.
    fields = AuditEvent._meta.concrete_fields
    sql = f"COPY {AuditEvent._meta.db_table} ({', '.join(_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for event in events:
            copy.write_row(
                [json.dumps(event.details) if f.name == "details" else getattr(event, f.attname) for f in fields]
            )
