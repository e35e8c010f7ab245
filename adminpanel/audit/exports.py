"""CSV and JSON Lines exports of a filtered audit log, streamed in constant memory, as bytes.

PostgreSQL formats every row in SQL and streams it with COPY (exports_pg.py); elsewhere Python formats keyset
chunks. Both write exactly the same bytes, so the format is defined here once, in the terms PostgreSQL prints:

- columns: seq, every other chained field, prev_hash, hash, key_id (the id of the key that signed the event;
  not hashed, a hint so a filtered export can be checked offline);
- `details` as PostgreSQL prints jsonb: keys ordered by length then bytes, ", " and ": " between items;
- JSONL: one compact JSON object per line in column order, strings escaped as PostgreSQL's to_json() does;
- CSV: "," and '"' quoting only where needed, "\\n" after each row, an empty cell for an empty value, and a
  cell a spreadsheet would run as a formula (= + - @ tab CR) prefixed with an apostrophe; a value that already
  starts with an apostrophe gets one more, so `unneutralise` gives back exactly what was hashed.
"""

from __future__ import annotations

import bisect
import csv
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

from adminpanel.audit.chain import CHAIN_FIELDS, segment_starts, timestamp
from adminpanel.audit.models import AuditEvent

# seq first (the reader's key), then every chained field, then the chain links and the signing key's id.
DB_COLUMNS = ("seq", *(name for name in CHAIN_FIELDS if name != "seq"), "prev_hash", "hash")
COLUMNS = (*DB_COLUMNS, "key_id")
# Free text a spreadsheet could read as a formula; the other columns are uuids, numbers, times and hex.
TEXT_COLUMNS = (
    "actor_username",
    "actor_ip",
    "actor_user_agent",
    "request_id",
    "action",
    "outcome",
    "user_id",
    "authenticator_id",
    "verification_method",
    "reason",
    "ticket",
    "details",
)
CHUNK = 2_000  # rows per keyset query on the Python path
CHUNK_BYTES = 64 * 1024  # bytes handed to the response (or file) at a time
SEQ_RANGE = 100_000  # PostgreSQL: one COPY per this many seq numbers, so progress can be written in between
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
FORMATS = ("csv", "jsonl")


def neutralise(value: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe ("=1+1" -> "'=1+1"), and so does
    one that starts with an apostrophe already, so that the change can be undone exactly."""
    return ESCAPE + value if value.startswith(FORMULA_START) or value.startswith(ESCAPE) else value


def unneutralise(cell: str) -> str:
    """The value `neutralise` was given."""
    return cell[1:] if cell.startswith(ESCAPE) else cell


# --- PostgreSQL's text forms, written in Python ---

_json_str = json.JSONEncoder(ensure_ascii=False).encode  # escapes exactly what PostgreSQL's escape_json does


def json_text(value: str) -> str:
    """A string as PostgreSQL's to_json(text)::text prints it."""
    return _json_str(value)


def jsonb_text(value: Any) -> str:
    """A JSON value as PostgreSQL prints jsonb: object keys by length, then bytes; ", " and ": " separators."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")  # numeric prints the same digits without an exponent
    if isinstance(value, str):
        return _json_str(value)
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: (len(item[0].encode()), item[0].encode()))
        return "{" + ", ".join(f"{_json_str(k)}: {jsonb_text(v)}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(jsonb_text(v) for v in value) + "]"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


# --- Rows ---


class KeyIds:
    """The id of the key that signed an event, from the segment starts (seq, key id) read when the export began."""

    def __init__(self, starts: list[tuple[int, str]]) -> None:
        self.firsts = [first for first, _ in starts]
        self.ids = [key_id for _, key_id in starts]

    def __call__(self, seq: int) -> str:
        return self.ids[max(0, bisect.bisect_right(self.firsts, seq) - 1)]


def iter_events(qs: QuerySet[AuditEvent], *, up_to_seq: int) -> Iterator[list[tuple[Any, ...]]]:
    """The matching events oldest first, as chunks of value tuples; each chunk is a fresh keyset query."""
    last = 0
    rows = qs.filter(seq__lte=up_to_seq).order_by("seq").values_list(*DB_COLUMNS)
    while True:
        chunk: list[tuple[Any, ...]] = list(rows.filter(seq__gt=last)[:CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1][0]


class _Lines:
    """A file-like object csv.writer writes into, so rows can be handed on as text."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, value: str) -> None:
        self.parts.append(value)

    def take(self) -> str:
        text, self.parts = "".join(self.parts), []
        return text


def csv_writer(out: Any) -> Any:
    return csv.writer(out, lineterminator="\n")  # PostgreSQL's COPY ends rows with \n


def csv_header() -> str:
    return ",".join(COLUMNS) + "\n"


_TEXT_AT = frozenset(DB_COLUMNS.index(name) for name in TEXT_COLUMNS)
_DETAILS_AT = DB_COLUMNS.index("details")
_ACTOR_AT = DB_COLUMNS.index("actor_id")


def csv_cells(row: tuple[Any, ...], key_id: str) -> list[Any]:
    cells: list[Any] = list(row)
    cells[1], cells[2], cells[10] = str(row[1]), timestamp(row[2]), str(row[10])
    cells[_DETAILS_AT] = jsonb_text(row[_DETAILS_AT])
    for i in _TEXT_AT:
        cells[i] = neutralise(cells[i])
    cells.append(key_id)
    return cells


def jsonl_line(row: tuple[Any, ...], key_id: str) -> str:
    j = _json_str
    return (
        f'{{"seq":{row[0]},"id":"{row[1]}","created_at":"{timestamp(row[2])}",'
        f'"actor_id":{"null" if row[3] is None else row[3]},"actor_username":{j(row[4])},"actor_ip":{j(row[5])},'
        f'"actor_user_agent":{j(row[6])},"request_id":{j(row[7])},"action":{j(row[8])},"outcome":{j(row[9])},'
        f'"correlation_id":"{row[10]}","user_id":{j(row[11])},"authenticator_id":{j(row[12])},'
        f'"verification_method":{j(row[13])},"reason":{j(row[14])},"ticket":{j(row[15])},'
        f'"details":{jsonb_text(row[16])},"prev_hash":"{row[17]}","hash":"{row[18]}","key_id":{j(key_id)}}}\n'
    )


def _python_chunks(fmt: str, qs: QuerySet[AuditEvent], *, up_to_seq: int) -> Iterator[tuple[bytes, int, bool]]:
    key_ids = KeyIds(segment_starts())
    if fmt == "csv":
        yield csv_header().encode(), 0, True
        lines = _Lines()
        writer = csv_writer(lines)
        for chunk in iter_events(qs, up_to_seq=up_to_seq):
            writer.writerows(csv_cells(row, key_ids(row[0])) for row in chunk)
            yield lines.take().encode(), len(chunk), True
    else:
        for chunk in iter_events(qs, up_to_seq=up_to_seq):
            yield "".join(jsonl_line(row, key_ids(row[0])) for row in chunk).encode(), len(chunk), True


def formatted_chunks(fmt: str, qs: QuerySet[AuditEvent], *, up_to_seq: int) -> Iterator[tuple[bytes, int, bool]]:
    """(bytes, rows in them, whether the database connection is free now) pieces of a whole export: the one
    writer behind streamed and prepared exports. While it is not free, run no query on it."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        from adminpanel.audit import exports_pg

        return exports_pg.copy_chunks(fmt, qs, up_to_seq=up_to_seq)
    return _python_chunks(fmt, qs, up_to_seq=up_to_seq)


def python_chunks(fmt: str, qs: QuerySet[AuditEvent], *, up_to_seq: int) -> Iterator[tuple[bytes, int, bool]]:
    """The portable writer on any database (PostgreSQL's COPY output is tested against it)."""
    return _python_chunks(fmt, qs, up_to_seq=up_to_seq)


def stream(fmt: str, qs: QuerySet[AuditEvent], *, up_to_seq: int) -> Iterator[bytes]:
    return (data for data, _, _ in formatted_chunks(fmt, qs, up_to_seq=up_to_seq) if data)
