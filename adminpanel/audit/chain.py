"""The hash chain: canonical JSON of an event, its HMAC, and walking the whole chain to verify it."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from adminpanel.audit.models import GENESIS_HASH, AuditEvent

# The event fields covered by the HMAC, in the order verify reads them. prev_hash is chained in front.
CHAIN_FIELDS: tuple[str, ...] = (
    "id",
    "seq",
    "created_at",
    "actor_id",
    "actor_username",
    "actor_ip",
    "actor_user_agent",
    "request_id",
    "action",
    "outcome",
    "correlation_id",
    "user_id",
    "authenticator_id",
    "verification_method",
    "reason",
    "ticket",
    "details",
)
_UTC = dt.UTC
_enc = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]
_dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode


def timestamp(value: dt.datetime) -> str:
    """UTC with microseconds and a Z: '2026-11-02T09:15:00.000123Z'."""
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(_UTC)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _canonical(
    id_: str,
    seq: int,
    created_at: str,
    actor_id: int | None,
    actor_username: str,
    actor_ip: str,
    actor_user_agent: str,
    request_id: str,
    action: str,
    outcome: str,
    correlation_id: str,
    user_id: str,
    authenticator_id: str,
    verification_method: str,
    reason: str,
    ticket: str,
    details: Any,
) -> str:
    # Equal to json.dumps(dict(zip(CHAIN_FIELDS, …)), sort_keys=True, separators=(",", ":")), written out
    # by hand because verify runs it a million times. Keys in sorted order; uuid/time already strings.
    return (
        '{"action":' + _enc(action)
        + ',"actor_id":' + ("null" if actor_id is None else str(int(actor_id)))
        + ',"actor_ip":' + _enc(actor_ip)
        + ',"actor_user_agent":' + _enc(actor_user_agent)
        + ',"actor_username":' + _enc(actor_username)
        + ',"authenticator_id":' + _enc(authenticator_id)
        + ',"correlation_id":' + _enc(correlation_id)
        + ',"created_at":' + _enc(created_at)
        + ',"details":' + _dumps(details)
        + ',"id":' + _enc(id_)
        + ',"outcome":' + _enc(outcome)
        + ',"reason":' + _enc(reason)
        + ',"request_id":' + _enc(request_id)
        + ',"seq":' + str(int(seq))
        + ',"ticket":' + _enc(ticket)
        + ',"user_id":' + _enc(user_id)
        + ',"verification_method":' + _enc(verification_method)
        + "}"
    )  # fmt: skip


def canonical_json(values: Sequence[Any]) -> bytes:
    """Canonical JSON of one event given its CHAIN_FIELDS values: sorted keys, no spaces, ASCII only."""
    v = list(values)
    v[0] = str(v[0])
    v[2] = timestamp(v[2])
    v[10] = str(v[10])
    return _canonical(*v).encode("ascii")


def compute_hash(prev_hash: str, values: Sequence[Any], key: bytes | None = None) -> str:
    """hash = HMAC-SHA256(AUDIT_CHAIN_KEY, prev_hash ‖ canonical JSON), hex."""
    message = prev_hash.encode("ascii") + canonical_json(values)
    return hmac.digest(key if key is not None else settings.AUDIT_CHAIN_KEY, message, "sha256").hex()


def hash_canonical(prev_hash: str, values: Sequence[Any], key: bytes) -> str:
    """compute_hash for values whose id, created_at and correlation_id are already canonical text."""
    return hmac.digest(key, prev_hash.encode("ascii") + _canonical(*values).encode("ascii"), "sha256").hex()


def signing_key() -> bytes:
    return settings.AUDIT_CHAIN_KEY


def event_values(event: AuditEvent) -> tuple[Any, ...]:
    return tuple(getattr(event, name) for name in CHAIN_FIELDS)


def event_hash_ok(event: AuditEvent) -> bool:
    """Does this event's stored hash recompute from its content and its prev_hash?"""
    return hmac.compare_digest(compute_hash(event.prev_hash, event_values(event)), event.hash)


# --- Values that survive a trip through PostgreSQL jsonb/text and SQLite unchanged, so hashes recompute. ---


def clean_text(value: Any) -> str:
    """Text as stored: NUL (PostgreSQL refuses it) and lone surrogates become U+FFFD; the rest verbatim."""
    text = "" if value is None else str(value)
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8").replace("?", "\ufffd")
    return text


def clean_json(value: Any) -> Any:
    """JSON that reads back identically from jsonb: str keys, integral floats as int, no NaN, no NUL."""
    if isinstance(value, dict):
        return {clean_text(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [clean_json(v) for v in value]
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return int(value) if value.is_integer() else value
    if isinstance(value, dt.datetime):
        return timestamp(value) if value.tzinfo else value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return clean_text(value)


# --- Verify ---


@dataclass
class VerifyResult:
    ok: bool
    events_checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    first_bad_seq: int | None = None
    message: str = ""
    elapsed: float = 0.0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.ok:
            return (
                f"OK: {self.events_checked} events, chain intact, head seq {self.head_seq} "
                f"hash {self.head_hash[:16]}… ({self.elapsed:.1f}s)"
            )
        return f"BROKEN at seq {self.first_bad_seq}: {self.message}"


def iter_chain_rows(chunk_size: int = 20_000) -> Iterator[Sequence[Any]]:
    """All events oldest first as (CHAIN_FIELDS…, prev_hash, hash), streamed in chunks.

    PostgreSQL: a server-side cursor returning uuid/time already as canonical text and details as JSON text,
    so Python builds no objects it would only turn back into strings. Elsewhere: the ORM's iterator.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        yield from (
            AuditEvent.objects.order_by("seq")
            .values_list(*CHAIN_FIELDS, "prev_hash", "hash")
            .iterator(chunk_size=chunk_size)
        )
        return
    columns = ", ".join(_PG_COLUMNS.get(name, name) for name in CHAIN_FIELDS)
    with transaction.atomic(using=DEFAULT_DB_ALIAS):
        connection.ensure_connection()
        cursor = connection.connection.cursor(name="audit_verify")
        cursor.itersize = chunk_size
        try:
            cursor.execute(f"SELECT {columns}, prev_hash, hash FROM {AuditEvent._meta.db_table} ORDER BY seq")
            yield from cursor
        finally:
            cursor.close()


_PG_COLUMNS = {
    "id": "id::text",
    "correlation_id": "correlation_id::text",
    "created_at": """to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""",
    "details": "details::text",
}


def verify_rows(
    rows: Iterable[Sequence[Any]],
    *,
    checkpoint: dict[str, Any] | None = None,
    key: bytes | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyResult:
    """Walks the chain: seq runs 1, 2, 3…, each prev_hash is the previous hash, each hash recomputes.

    The first failure names the first bad seq: an edited event fails its own hash, a deleted one leaves a gap,
    an inserted or reordered one breaks seq/prev_hash/hash. A checkpoint stored elsewhere also catches a tail
    that was truncated or rewritten by someone holding the key.
    """
    started = time.monotonic()
    key = key if key is not None else settings.AUDIT_CHAIN_KEY
    base = hmac.new(key, digestmod=hashlib.sha256)
    compare, canonical, loads = hmac.compare_digest, _canonical, json.loads
    prev = GENESIS_HASH
    expected = 1
    cp_seq = int(checkpoint["seq"]) if checkpoint else 0
    cp_hash_seen: str | None = None
    result = VerifyResult(ok=True)

    def fail(seq: int, message: str) -> VerifyResult:
        result.ok = False
        result.first_bad_seq = seq
        result.message = message
        result.events_checked = result.head_seq = expected - 1
        result.head_hash = prev
        result.elapsed = time.monotonic() - started
        return result

    for row in rows:
        seq = row[1]
        if seq != expected:
            if seq > expected:
                return fail(expected, f"event #{expected} is missing (next event found is #{seq}): deleted")
            return fail(seq, f"event #{seq} is out of order (expected #{expected})")
        prev_hash, stored = row[17], row[18]
        if prev_hash != prev:
            return fail(
                seq,
                f"event #{seq} does not link to event #{seq - 1} (prev_hash differs): inserted or removed",
            )
        values = list(row[:17])
        if not isinstance(values[0], str):  # the portable path yields objects, the PostgreSQL one text
            values[0], values[2], values[10] = str(values[0]), timestamp(values[2]), str(values[10])
        if isinstance(values[16], str):
            values[16] = loads(values[16])
        mac = base.copy()
        mac.update(prev.encode("ascii") + canonical(*values).encode("ascii"))
        computed = mac.hexdigest()
        if not compare(computed, stored):
            return fail(seq, f"event #{seq} does not match its hash: its content was changed")
        if seq == cp_seq:
            cp_hash_seen = stored
        prev = stored
        expected += 1
        if progress is not None and seq % 100_000 == 0:
            progress(seq)

    result.events_checked = expected - 1
    result.head_seq = expected - 1
    result.head_hash = prev
    if checkpoint:
        if result.head_seq < cp_seq:
            return fail(
                result.head_seq + 1,
                f"the log ends at #{result.head_seq} but the checkpoint recorded #{cp_seq}: the tail was removed",
            )
        if cp_hash_seen != checkpoint.get("hash"):
            return fail(cp_seq, f"event #{cp_seq} differs from the checkpoint: the chain was rewritten")
    result.elapsed = time.monotonic() - started
    return result


def verify_chain(*, checkpoint: dict[str, Any] | None = None, chunk_size: int = 20_000) -> VerifyResult:
    with closing(iter_chain_rows(chunk_size)) as rows:  # an early failure still ends the cursor's transaction
        return verify_rows(rows, checkpoint=checkpoint)
