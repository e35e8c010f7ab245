"""Verifying an export file offline (`audit verify --file`): the chain's rules with the keys and no database.

Like CloudTrail's `validate-logs`, for our chain: every hash is recomputed from the row's own fields, every
link between consecutive seq numbers is checked, and the first bad line is named (line number and seq). A
filtered export holds some events only: their hashes are all checked, links only where two rows are
consecutive, and the summary says how many links could be checked.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adminpanel.audit import exports, keys
from adminpanel.audit.chain import CHAIN_FIELDS, MAX_PROBLEMS, _canonical, segment_key_id
from adminpanel.audit.models import GENESIS_HASH

_TEXT_FIELDS = frozenset(exports.TEXT_COLUMNS) - {"details"}


class UnreadableExport(Exception):
    """Not an export this command can read (wrong header, unknown format, cannot open)."""


@dataclass
class Unchecked:
    """Events whose key is not configured here: counted, their hashes not checked."""

    key_id: str
    segment: int | None
    events: int = 0
    first_seq: int = 0
    last_seq: int = 0

    def describe(self) -> str:
        number = f"segment {self.segment} " if self.segment else "segment "
        return (
            f"{number}(key id {self.key_id}) cannot be checked: its key is not configured "
            f"({self.events} events, seq {self.first_seq}–{self.last_seq})"
        )


@dataclass
class FileResult:
    path: str
    events: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    hashes_checked: int = 0
    links_checked: int = 0
    links_possible: int = 0
    first_bad_line: int | None = None
    first_bad_seq: int | None = None
    message: str = ""
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    unchecked: dict[str, Unchecked] = field(default_factory=dict)
    checkpoint_note: str = ""

    @property
    def ok(self) -> bool:
        return self.problem_count == 0 and not self.unchecked

    @property
    def broken(self) -> bool:
        return self.problem_count > 0

    def summary(self) -> str:
        span = f"seq {self.first_seq}–{self.last_seq}" if self.events else "no events"
        if self.links_checked == self.links_possible:
            links = f"all {self.links_checked} links checked"
        else:
            links = (
                f"{self.links_checked} of {self.links_possible} links could be checked (the others span events "
                "that are not in this file, as in a filtered export)"
            )
        unchecked = "; ".join(u.describe() for u in self.unchecked.values())
        note = f"; {self.checkpoint_note}" if self.checkpoint_note else ""
        if self.broken:
            where = f"line {self.first_bad_line}" + (f" (seq {self.first_bad_seq})" if self.first_bad_seq else "")
            more = f" ({self.problem_count - 1} more problems after it)" if self.problem_count > 1 else ""
            return f"BROKEN at {where}: {self.message}{more}" + (f"; {unchecked}" if unchecked else "")
        if unchecked:
            return (
                f"INCOMPLETE: {unchecked}; the other {self.hashes_checked} of {self.events} events match their "
                f"hashes, {links}{note}"
            )
        return f"OK: {self.path}: {self.events} events ({span}), every hash matches; {links}{note}"


# --- Reading ---


def _rows_jsonl(data: bytes) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            doc = json.loads(raw.decode("utf-8", "replace"))
        except ValueError as exc:
            yield number, f"not valid JSON ({exc})"
            continue
        yield number, doc if isinstance(doc, dict) else "not a JSON object"


def _rows_csv(data: bytes) -> Iterator[tuple[int, dict[str, Any] | str]]:
    reader = csv.reader(io.StringIO(data.decode("utf-8", "replace"), newline=""))
    header = next(reader, None)
    if header != list(exports.COLUMNS):
        raise UnreadableExport(f"the first line is not this product's CSV header ({','.join(exports.COLUMNS)})")
    start = reader.line_num + 1
    for cells in reader:
        number, start = start, reader.line_num + 1
        if len(cells) != len(exports.COLUMNS):
            yield number, f"has {len(cells)} cells, not {len(exports.COLUMNS)}"
            continue
        doc: dict[str, Any] = dict(zip(exports.COLUMNS, cells, strict=True))
        armed = [name for name in exports.TEXT_COLUMNS if doc[name].startswith(exports.FORMULA_START)]
        if armed:  # this export always defuses such a cell: someone edited it, and a spreadsheet would run it
            yield number, f"has a {armed[0]} cell starting with {doc[armed[0]][:1]!r} and no apostrophe: edited"
            continue
        for name in _TEXT_FIELDS:
            doc[name] = exports.unneutralise(doc[name])
        try:
            doc["details"] = json.loads(exports.unneutralise(doc["details"]))
        except ValueError as exc:
            yield number, f"its details are not valid JSON ({exc})"
            continue
        doc["actor_id"] = doc["actor_id"] or None
        yield number, doc


def _values(doc: dict[str, Any]) -> tuple[int, list[Any], str, str, str]:
    """(seq, CHAIN_FIELDS values ready for hashing, prev_hash, hash, key_id hint) from one row."""
    missing = [name for name in exports.COLUMNS if name not in doc]
    if missing:
        raise ValueError(f"lacks {', '.join(missing)}")
    values = [doc[name] for name in CHAIN_FIELDS]
    try:
        values[1] = int(values[1])
        values[3] = None if values[3] in (None, "") else int(values[3])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"has a seq or actor_id that is not a number ({exc})") from None
    for i, name in enumerate(CHAIN_FIELDS):
        if name not in ("seq", "actor_id", "details") and not isinstance(values[i], str):
            raise ValueError(f"has a {name} that is not text")
    prev_hash, stored, key_id = doc["prev_hash"], doc["hash"], doc["key_id"]
    if not all(isinstance(v, str) for v in (prev_hash, stored, key_id)):
        raise ValueError("has a prev_hash, hash or key_id that is not text")
    return values[1], values, prev_hash, stored, key_id


def read_export(path: Path) -> tuple[str, Iterator[tuple[int, dict[str, Any] | str]]]:
    """The file's format and its rows as (line number, row or what is wrong with the line)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableExport(f"cannot read {path}: {exc}") from exc
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in exports.FORMATS:
        fmt = "jsonl" if data.lstrip()[:1] == b"{" else "csv"
    return fmt, (_rows_jsonl(data) if fmt == "jsonl" else _rows_csv(data))


# --- Checking ---


def verify_file(
    path: Path,
    *,
    key_by_id: Mapping[str, bytes] | None = None,
    checkpoint: dict[str, Any] | None = None,
    complete: bool = False,
) -> FileResult:
    """Checks every row of an export: its hash under its segment's key, and its link where seq is consecutive.

    A gap in seq is what a filtered export looks like, and also what a deleted line looks like: with
    `complete` (an unfiltered export) every gap is a problem.
    """
    available = dict(key_by_id if key_by_id is not None else keys.chain_keys())
    order = {key_id: n for n, key_id in enumerate(available)}
    starts = [(int(seq), str(key_id)) for seq, key_id in (checkpoint or {}).get("segments", [])]
    result = FileResult(path=str(path))
    _, rows = read_export(path)

    def problem(line: int, seq: int | None, message: str) -> None:
        result.problem_count += 1
        if result.first_bad_line is None:
            result.first_bad_line, result.first_bad_seq, result.message = line, seq, message
        if len(result.problems) < MAX_PROBLEMS:
            result.problems.append(f"line {line}" + (f" (seq {seq})" if seq else "") + f": {message}")

    prev_seq: int | None = None
    prev_stored = ""
    current: str | None = None  # the key id the chain says signs the next event, when the file shows it
    segment_number: int | None = None  # known while the file runs unbroken from seq 1
    latest: str | None = None  # the key of the previous row: keys only ever move to newer ones
    for line, row in rows:
        if isinstance(row, str):
            problem(line, None, f"the line {row}")
            prev_seq = current = segment_number = None
            continue
        try:
            seq, values, prev_hash, stored, hint = _values(row)
        except ValueError as exc:
            problem(line, row.get("seq") if isinstance(row.get("seq"), int) else None, f"the row {exc}")
            prev_seq = current = segment_number = None
            continue
        if prev_seq is not None and seq <= prev_seq:
            problem(line, seq, f"event #{seq} comes after #{prev_seq}: out of order or repeated")
            continue
        if result.events:
            result.links_possible += 1
        result.events += 1
        result.first_seq = seq if result.first_seq is None else result.first_seq
        result.last_seq = seq
        if seq == 1:
            if prev_hash != GENESIS_HASH:
                problem(line, seq, "event #1 does not start from the genesis hash: inserted or removed")
            current, segment_number = keys.DEFAULT_KEY_ID, 1
        elif prev_seq is not None and seq == prev_seq + 1:
            result.links_checked += 1
            if prev_hash != prev_stored:
                problem(
                    line,
                    seq,
                    f"event #{seq} does not link to event #{prev_seq} (prev_hash differs): inserted or removed",
                )
        else:  # a gap: a rotation may hide in it
            current = segment_number = None
            if complete:
                after = prev_seq or 0
                missing = f"event #{after + 1} is" if seq == after + 2 else f"events #{after + 1}–#{seq - 1} are"
                problem(line, seq, f"{missing} missing before this line: deleted (or the export was filtered)")
        # Which key signed it: the chain says so when the file runs on from a known segment.
        new_key = segment_key_id(values[8], values[9], values[16])
        if new_key is not None:
            before = current or latest
            if before is not None:
                older = order.get(new_key, 1 << 30) < order.get(before, -1)
                if new_key == before or older:
                    problem(line, seq, f"event #{seq} rotates from key {before} to {new_key}, which is not newer")
                elif (
                    current is not None
                    and isinstance(values[16], dict)
                    and values[16].get("previous_key_id") not in (current, None)
                ):
                    problem(line, seq, f"event #{seq} says the previous key was {values[16].get('previous_key_id')!r}")
            key_id = new_key
            if segment_number is not None and seq > 1:
                segment_number += 1
        elif current is not None:
            key_id = current
        elif starts:  # the checkpoint's segment starts say
            key_id = next((k for first, k in reversed(starts) if first <= seq), keys.DEFAULT_KEY_ID)
            segment_number = sum(1 for first, _ in starts if first <= seq)
        else:
            key_id = hint  # only the column says: a filtered export without the segment starts
            if latest is not None and order.get(hint, 1 << 30) < order.get(latest, -1):
                problem(line, seq, f"event #{seq} claims the older key {hint} after {latest} signed earlier events")
        if hint != key_id:
            problem(line, seq, f"its key_id column says {hint!r} but the chain says {key_id!r}: the file was edited")
        current = latest = key_id
        key = available.get(key_id)
        if key is None:
            unchecked = result.unchecked.setdefault(key_id, Unchecked(key_id, segment_number, 0, seq))
            unchecked.events += 1
            unchecked.last_seq = seq
        else:
            message = prev_hash.encode("ascii", "replace") + _canonical(*values).encode("ascii")
            computed = hmac.new(key, message, hashlib.sha256).hexdigest()
            result.hashes_checked += 1
            if not hmac.compare_digest(computed, stored.encode("ascii", "replace").decode()):
                problem(line, seq, f"event #{seq} does not match its hash: its content was changed")
        prev_seq, prev_stored = seq, stored

    if checkpoint and result.events:
        cp_seq, cp_hash = int(checkpoint.get("seq", 0)), str(checkpoint.get("hash", ""))
        result.checkpoint_note = _compare_checkpoint(path, cp_seq, cp_hash, result, problem)
    return result


def _compare_checkpoint(path: Path, cp_seq: int, cp_hash: str, result: FileResult, problem: Any) -> str:
    if result.first_seq is None or not (result.first_seq <= cp_seq <= (result.last_seq or 0)):
        return f"the checkpoint's seq {cp_seq} is not in this file: not compared"
    _, rows = read_export(path)
    for line, row in rows:
        if isinstance(row, dict) and str(row.get("seq")) == str(cp_seq):
            if row.get("hash") != cp_hash:
                problem(line, cp_seq, f"event #{cp_seq} differs from the checkpoint: the chain was rewritten")
                return ""
            return f"event #{cp_seq} matches the checkpoint"
    return f"the checkpoint's seq {cp_seq} is not in this file (filtered out): not compared"
