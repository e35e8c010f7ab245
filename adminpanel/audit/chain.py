"""The hash chain: canonical JSON of an event, its HMAC, and walking the whole chain to verify it."""

from __future__ import annotations

import datetime as dt
import hmac
import json
import math
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

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
_ID, _SEQ, _CREATED, _CORRELATION, _DETAILS = (
    CHAIN_FIELDS.index(name) for name in ("id", "seq", "created_at", "correlation_id", "details")
)
_UTC = dt.UTC
_dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode


def timestamp(value: dt.datetime) -> str:
    """UTC, microseconds, no offset suffix ambiguity: '2026-11-02T09:15:00.000123Z'."""
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(_UTC)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def canonical_json(values: Sequence[Any]) -> bytes:
    """Canonical JSON of one event given its CHAIN_FIELDS values: sorted keys, no spaces, ASCII only."""
    doc = dict(zip(CHAIN_FIELDS, values, strict=True))
    doc["id"] = str(doc["id"])
    doc["correlation_id"] = str(doc["correlation_id"])
    doc["created_at"] = timestamp(doc["created_at"])
    return _dumps(doc).encode("ascii")


def compute_hash(prev_hash: str, values: Sequence[Any], key: bytes | None = None) -> str:
    """hash = HMAC-SHA256(AUDIT_CHAIN_KEY, prev_hash ‖ canonical JSON), hex."""
    message = prev_hash.encode("ascii") + canonical_json(values)
    return hmac.digest(key if key is not None else settings.AUDIT_CHAIN_KEY, message, "sha256").hex()


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


def iter_chain_rows(chunk_size: int = 20_000) -> Iterable[Sequence[Any]]:
    """All events oldest first as (CHAIN_FIELDS…, prev_hash, hash), streamed (server-side cursor on PG)."""
    return (
        AuditEvent.objects.order_by("seq")
        .values_list(*CHAIN_FIELDS, "prev_hash", "hash")
        .iterator(chunk_size=chunk_size)
    )


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
    digest, compare, dumps, stamp = hmac.digest, hmac.compare_digest, _dumps, timestamp
    names = CHAIN_FIELDS
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
        seq = row[_SEQ]
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
        doc = dict(zip(names, row[:17], strict=False))
        doc["id"] = str(doc["id"])
        doc["correlation_id"] = str(doc["correlation_id"])
        doc["created_at"] = stamp(doc["created_at"])
        computed = digest(key, prev.encode("ascii") + dumps(doc).encode("ascii"), "sha256").hex()
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
                f"the log ends at #{result.head_seq} but the checkpoint recorded #{cp_seq}: "
                "the tail was removed",
            )
        if cp_hash_seen != checkpoint.get("hash"):
            return fail(cp_seq, f"event #{cp_seq} differs from the checkpoint: the chain was rewritten")
    result.elapsed = time.monotonic() - started
    return result


def verify_chain(*, checkpoint: dict[str, Any] | None = None, chunk_size: int = 20_000) -> VerifyResult:
    return verify_rows(iter_chain_rows(chunk_size), checkpoint=checkpoint)
