"""Synthetic audit events for demos and benchmarks, bulk-inserted with a correctly computed chain."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from adminpanel.audit import chain, keys
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
    done = 0
    head_seq = 0
    rng: random.Random | None = None
    actions = [a for a, _ in ACTIONS]
    weights = [w for _, w in ACTIONS]
    start = timezone.now() - INTERVAL * count
    while done < count:
        n = min(batch_size, count - done)
        with transaction.atomic(using=DEFAULT_DB_ALIAS):
            head = lock_chain_head()
            head_seq, prev_hash, head_time = head.seq, head.hash, head.created_at
            if rng is None:  # seeded from the head too, so a second seed run never repeats the first one's ids
                rng = random.Random(rng_seed * 1_000_003 + head_seq)
            t = max(start + INTERVAL * done, head_time or start)
            key = keys.key_for(head.key_id)
            if key is None:
                raise keys.ChainKeyMissing(f"the chain's current key {head.key_id!r} is not configured")
            with _writer() as write:
                for i in range(n):
                    t += INTERVAL
                    seq = head_seq + i + 1
                    row = _synthetic_row(rng, seq, t, actions, weights, prev_hash, key)
                    write(row)
                    prev_hash = row[-1]
            head_seq = seq
        done += n
        if progress is not None:
            progress(done)
    return head_seq


def _synthetic_row(
    rng: random.Random,
    seq: int,
    t: dt.datetime,
    actions: list[str],
    weights: list[int],
    prev_hash: str,
    key: bytes,
) -> tuple[Any, ...]:
    """One event as its column values in table order (CHAIN_FIELDS, prev_hash, hash), already hashed."""
    action = rng.choices(actions, weights)[0]
    method = rng.choice(METHODS) if action.startswith("authenticator.") else ""
    ticket = f"SUP-{rng.randrange(1, 200_000)}" if rng.random() < 0.3 else ""
    values = (
        str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        seq,
        chain.timestamp(t),
        None,
        rng.choice(ACTORS),
        f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        "Mozilla/5.0 (synthetic)",
        f"{rng.getrandbits(64):016x}",
        action,
        _outcome(rng, action),
        str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        f"user-{rng.randrange(1, 50_000)}" if action != Action.STAFF_LOGIN else "",
        f"auth-{rng.getrandbits(40):010x}" if method else "",
        method,
        rng.choice(REASONS) if action.startswith(("authenticator.", "pii.", "lockout.")) else "",
        ticket,
        {"synthetic": True, "n": seq},
    )
    return (*values, prev_hash, chain.hash_canonical(prev_hash, values, key))


def _outcome(rng: random.Random, action: str) -> str:
    if action == Action.ACCESS_DENIED:
        return Outcome.DENIED
    roll = rng.random()
    if action.startswith("authenticator."):
        return Outcome.REQUESTED if roll < 0.5 else (Outcome.SUCCEEDED if roll < 0.95 else Outcome.FAILED)
    return Outcome.SUCCEEDED if roll < 0.97 else Outcome.FAILED


_COLUMNS = [f.column for f in AuditEvent._meta.concrete_fields]  # = CHAIN_FIELDS, prev_hash, hash


@contextmanager
def _writer() -> Iterator[Callable[[tuple[Any, ...]], None]]:
    """A function that inserts one row. PostgreSQL: COPY, streamed, so the server indexes while Python hashes."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        attnames = [f.attname for f in AuditEvent._meta.concrete_fields]
        events: list[AuditEvent] = []

        def add(row: tuple[Any, ...]) -> None:
            event = AuditEvent(**dict(zip(attnames, row, strict=True)))
            event.created_at = dt.datetime.fromisoformat(row[2])
            events.append(event)

        yield add
        AuditEvent.objects.bulk_create(events, batch_size=500)
        return
    sql = f"COPY {AuditEvent._meta.db_table} ({', '.join(str(c) for c in _COLUMNS)}) FROM STDIN"
    dumps = json.dumps
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        write_row = copy.write_row
        yield lambda row: write_row((*row[:16], dumps(row[16]), row[17], row[18]))
