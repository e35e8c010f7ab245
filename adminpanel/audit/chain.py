"""The hash chain: canonical JSON of an event, its HMAC, and walking the whole chain to verify it."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
import time
import uuid
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from adminpanel.audit import keys
from adminpanel.audit.models import GENESIS_HASH, Action, AuditEvent

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
KEY_ROTATED = Action.KEY_ROTATED
MAX_PROBLEMS = 50  # verify goes on after a problem; it lists this many and counts the rest
_UTC = dt.UTC
_enc = json.encoder.encode_basestring_ascii
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
    """hash = HMAC-SHA256(key of the event's segment, prev_hash ‖ canonical JSON), hex. Default: the newest key."""
    message = prev_hash.encode("ascii") + canonical_json(values)
    return hmac.digest(key if key is not None else keys.chain_keys()[keys.newest_key_id()], message, "sha256").hex()


def hash_canonical(prev_hash: str, values: Sequence[Any], key: bytes) -> str:
    """compute_hash for values whose id, created_at and correlation_id are already canonical text."""
    return hmac.digest(key, prev_hash.encode("ascii") + _canonical(*values).encode("ascii"), "sha256").hex()


def segment_key_id(action: str, outcome: str, details: Any) -> str | None:
    """The key id a succeeded audit.key_rotated event starts its segment with; None for every other event."""
    if action != KEY_ROTATED or outcome != "succeeded":
        return None
    if isinstance(details, str):
        details = json.loads(details)
    key_id = details.get("key_id") if isinstance(details, dict) else None
    return key_id if isinstance(key_id, str) else None


def event_values(event: AuditEvent) -> tuple[Any, ...]:
    return tuple(getattr(event, name) for name in CHAIN_FIELDS)


def event_hash_ok(event: AuditEvent) -> bool | None:
    """Does this event's stored hash recompute from its content and its prev_hash? None: its key is not configured."""
    key = keys.key_for(segment_key_id_at(event.seq))
    if key is None:
        return None
    return hmac.compare_digest(compute_hash(event.prev_hash, event_values(event), key=key), event.hash)


def segment_key_id_at(seq: int) -> str:
    """The id of the key that signed event #seq: that of the last segment start at or before it."""
    starts = (
        AuditEvent.objects.filter(action=KEY_ROTATED, outcome="succeeded", seq__lte=seq)
        .order_by("-seq")
        .values_list("details", flat=True)
    )
    for details in starts.iterator():
        key_id = segment_key_id(KEY_ROTATED, "succeeded", details)
        if key_id is not None:
            return key_id
    return keys.DEFAULT_KEY_ID


def segment_starts() -> list[tuple[int, str]]:
    """(first seq, key id) of every segment, oldest first; the first one starts at seq 1."""
    starts = [(1, keys.DEFAULT_KEY_ID)]
    rotations = AuditEvent.objects.filter(action=KEY_ROTATED, outcome="succeeded").order_by("seq")
    for seq, details in rotations.values_list("seq", "details"):
        key_id = segment_key_id(KEY_ROTATED, "succeeded", details)
        if key_id is not None:
            if seq == 1:
                starts = []
            starts.append((seq, key_id))
    return starts


# --- Values that survive a trip through PostgreSQL jsonb/text and SQLite unchanged, so hashes recompute. ---


def clean_text(value: Any) -> str:
    """Text as stored: NUL (PostgreSQL refuses it) and lone surrogates become U+FFFD; the rest verbatim."""
    text = "" if value is None else value if type(value) is str else str(value)
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: only those become U+FFFD (a "?" in the text stays a "?")
        text = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
    return text


def clean_json(value: Any) -> Any:
    """JSON that reads back identically from jsonb: str keys, integral floats as int, no NaN, no NUL."""
    kind = type(value)
    if kind is str:  # by far the most common: checked first, exactly
        return clean_text(value)
    if kind is dict:
        return {clean_text(k): clean_json(v) for k, v in value.items()}
    if kind is list:
        return [clean_json(v) for v in value]
    if value is None or kind is bool or kind is int:
        return value
    if isinstance(value, dict):
        return {clean_text(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [clean_json(v) for v in value]
    if isinstance(value, (bool, int)):
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
class Segment:
    """A run of events signed by one key: from seq 1, or from an audit.key_rotated event, to the next rotation."""

    number: int
    key_id: str
    first_seq: int
    last_seq: int
    checkable: bool  # False when its key is not configured here: seq and links are checked, hashes cannot be

    def describe(self) -> str:
        return f"segment {self.number} (key id {self.key_id}, seq {self.first_seq}–{self.last_seq})"


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
    problem_count: int = 0
    segments: list[Segment] = field(default_factory=list)

    @property
    def unchecked_segments(self) -> list[Segment]:
        return [segment for segment in self.segments if not segment.checkable]

    def summary(self) -> str:
        unchecked = "; ".join(
            f"{segment.describe()} cannot be checked: its key is not configured" for segment in self.unchecked_segments
        )
        if self.first_bad_seq is not None:
            more = f" ({self.problem_count - 1} more problems after it)" if self.problem_count > 1 else ""
            return f"BROKEN at seq {self.first_bad_seq}: {self.message}{more}" + (f"; {unchecked}" if unchecked else "")
        if unchecked:
            return (
                f"INCOMPLETE: {unchecked}; the other {self.events_checked} events were checked and no tampering "
                f"was found, head seq {self.head_seq}"
            )
        segments = f" in {len(self.segments)} key segments" if len(self.segments) > 1 else ""
        return (
            f"OK: {self.events_checked} events, chain intact{segments}, head seq {self.head_seq} "
            f"hash {self.head_hash[:16]}… ({self.elapsed:.1f}s)"
        )


def iter_chain_rows(chunk_size: int = 20_000) -> Generator[Sequence[Any]]:
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


class ChainWalk:
    """The rules every verification applies, row by row: used over the database and over an export file.

    The key of each event is that of its segment: "default" from seq 1, then the key id a succeeded
    audit.key_rotated event names, until the next one. A rotation may only move to a newer configured key. A
    segment whose key is not configured here is walked (seq, links) but its hashes are not checked.
    """

    def __init__(self, result: VerifyResult, key_by_id: Mapping[str, bytes] | None = None) -> None:
        self.result = result
        self.available = dict(key_by_id if key_by_id is not None else keys.chain_keys())
        self.order = {key_id: n for n, key_id in enumerate(self.available)}
        self.segment: Segment | None = None
        self.mac: Any = None

    def problem(self, seq: int, message: str, where: str = "") -> None:
        result = self.result
        result.problem_count += 1
        if result.first_bad_seq is None:
            result.first_bad_seq, result.message = seq, message
        if len(result.problems) < MAX_PROBLEMS:
            result.problems.append(f"{where}seq {seq}: {message}")

    def start_segment(self, first_seq: int, key_id: str) -> None:
        segments = self.result.segments
        if segments and segments[-1].last_seq < segments[-1].first_seq:
            segments.pop()  # a rotation at seq 1: the chain never had a "default" segment
        key = self.available.get(key_id)
        self.segment = Segment(len(segments) + 1, key_id, first_seq, first_seq - 1, key is not None)
        segments.append(self.segment)
        self.mac = hmac.new(key, digestmod=hashlib.sha256) if key is not None else None

    def rotation(self, seq: int, details: Any, where: str = "") -> None:
        """A succeeded audit.key_rotated event: check it moves forward, then start its segment."""
        assert self.segment is not None
        new_key_id = details["key_id"]
        old_key_id = self.segment.key_id
        old_rank, new_rank = self.order.get(old_key_id), self.order.get(new_key_id)
        if new_key_id == old_key_id or (old_rank is not None and new_rank is not None and new_rank < old_rank):
            self.problem(
                seq, f"event #{seq} rotates from key {old_key_id} to {new_key_id}, which is not newer: forged", where
            )
        elif self.segment.last_seq >= self.segment.first_seq and details.get("previous_key_id") != old_key_id:
            self.problem(seq, f"event #{seq} says the previous key was {details.get('previous_key_id')!r}", where)
        self.start_segment(seq, new_key_id)


def verify_rows(
    rows: Iterable[Sequence[Any]],
    *,
    checkpoint: dict[str, Any] | None = None,
    key_by_id: Mapping[str, bytes] | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyResult:
    """Walks the chain: seq runs 1, 2, 3…, each prev_hash is the previous hash, each hash recomputes.

    The first failure names the first bad seq: an edited event fails its own hash, a deleted one leaves a gap,
    an inserted or reordered one breaks seq/prev_hash/hash. The walk goes on after a failure so that every
    problem is listed (up to MAX_PROBLEMS). A checkpoint stored elsewhere also catches a tail that was truncated
    or rewritten by someone holding the key.
    """
    started = time.monotonic()
    result = VerifyResult(ok=True)
    walk = ChainWalk(result, key_by_id)
    walk.start_segment(1, keys.DEFAULT_KEY_ID)
    problem = walk.problem
    compare, canonical, loads = hmac.compare_digest, _canonical, json.loads
    prev = GENESIS_HASH
    expected = 1
    linked = True  # False right after a gap: the event after it cannot link to the missing one
    cp_seq = int(checkpoint["seq"]) if checkpoint else 0
    cp_hash_seen: str | None = None
    count = 0

    for row in rows:
        seq = row[1]
        if seq != expected:
            if seq < expected:
                problem(seq, f"event #{seq} is out of order (expected #{expected})")
                continue
            missing = f"event #{expected} is" if seq == expected + 1 else f"events #{expected}–#{seq - 1} are"
            problem(expected, f"{missing} missing (next event found is #{seq}): deleted")
            linked = False
        prev_hash, stored = row[17], row[18]
        if linked and prev_hash != prev:
            problem(seq, f"event #{seq} does not link to event #{seq - 1} (prev_hash differs): inserted or removed")
        linked = True
        values = list(row[:17])
        if not isinstance(values[0], str):  # the portable path yields objects, the PostgreSQL one text
            values[0], values[2], values[10] = str(values[0]), timestamp(values[2]), str(values[10])
        if isinstance(values[16], str):
            values[16] = loads(values[16])
        if values[8] == KEY_ROTATED and segment_key_id(values[8], values[9], values[16]) is not None:
            walk.rotation(seq, values[16])
        mac = walk.mac
        if mac is not None:
            mac = mac.copy()
            mac.update(prev_hash.encode("ascii") + canonical(*values).encode("ascii"))
            if not compare(mac.hexdigest(), stored):
                problem(seq, f"event #{seq} does not match its hash: its content was changed")
        walk.segment.last_seq = seq  # type: ignore[union-attr]
        if seq == cp_seq:
            cp_hash_seen = stored
        prev = stored
        expected = seq + 1
        count += 1
        if progress is not None and seq % 100_000 == 0:
            progress(seq)

    result.events_checked = count
    result.head_seq = expected - 1
    result.head_hash = prev
    if checkpoint:
        if result.head_seq < cp_seq:
            problem(
                result.head_seq + 1,
                f"the log ends at #{result.head_seq} but the checkpoint recorded #{cp_seq}: the tail was removed",
            )
        elif cp_hash_seen != checkpoint.get("hash"):
            problem(cp_seq, f"event #{cp_seq} differs from the checkpoint: the chain was rewritten")
    result.ok = result.first_bad_seq is None and not result.unchecked_segments
    result.elapsed = time.monotonic() - started
    return result


def verify_chain(*, checkpoint: dict[str, Any] | None = None, chunk_size: int = 20_000) -> VerifyResult:
    with closing(iter_chain_rows(chunk_size)) as rows:  # an early failure still ends the cursor's transaction
        return verify_rows(rows, checkpoint=checkpoint)
