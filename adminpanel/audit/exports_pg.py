"""PostgreSQL exports: every row formatted in SQL and streamed by COPY (…) TO STDOUT, joined into ~64 KB chunks.

The bytes equal those of exports.py's Python writer (tests compare them). The filter is the auditor list's own
queryset: Django compiles its WHERE clause, psycopg binds the parameters client-side (COPY takes none).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from adminpanel.audit import exports
from adminpanel.audit.chain import segment_starts
from adminpanel.audit.models import AuditEvent

_CREATED_AT = """to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
# exports.neutralise in SQL; an empty value becomes NULL, which COPY's CSV writes as an empty cell like Python's.
_NEUTRALISED = (
    "CASE WHEN {c} = '' THEN NULL WHEN left({c}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r', '''') "
    "THEN '''' || {c} ELSE {c} END"
)
_CSV_COLUMNS: dict[str, str] = {
    "seq": "seq",
    "id": "id::text",
    "created_at": _CREATED_AT,
    "actor_id": "actor_id",
    "correlation_id": "correlation_id::text",
    "details": _NEUTRALISED.format(c="details::text"),
    "prev_hash": "NULLIF(prev_hash, '')",
    "hash": "NULLIF(hash, '')",
}
# concat() builds the line in one buffer (each || would copy it again); to_json() escapes free text. uuids,
# times and hashes need no escaping; the key id comes as a parameter already in its JSON form.
_JSONL_TEXT = (
    "actor_username",
    "actor_ip",
    "actor_user_agent",
    "request_id",
    "action",
    "outcome",
    "@correlation_id",
    "user_id",
    "authenticator_id",
    "verification_method",
    "reason",
    "ticket",
)
_JSONL_LINE = (
    """concat('{"seq":', seq, ',"id":"', id, '","created_at":"', """
    + _CREATED_AT
    + """, '","actor_id":', COALESCE(actor_id::text, 'null'), """
    + "".join(
        """',"correlation_id":"', correlation_id, '"', """
        if name == "@correlation_id"
        else f"""',"{name}":', to_json({name}), """
        for name in _JSONL_TEXT
    )
    + """',"details":', details, ',"prev_hash":"', prev_hash, '","hash":"', hash, '","key_id":', {key_id}, '}')"""
)
# One text column per row, written verbatim: CSV quoting rules apply only to the delimiter, the quote character
# and line breaks, and a JSON line holds none of them raw (JSON escapes every control character).
_JSONL_COPY = "COPY ({query}) TO STDOUT (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')"
_CSV_COPY = "COPY ({query}) TO STDOUT (FORMAT csv)"


def _key_id_sql(starts: list[tuple[int, str]], as_json: bool = False) -> tuple[str, list[Any]]:
    """CASE seq … THEN key id …: the signing key's id per row, from the segment starts (as JSON text if asked)."""
    shown = [(first, exports.json_text(key_id) if as_json else key_id) for first, key_id in starts]
    if len(shown) == 1:
        return "%s::text", [shown[0][1]]
    whens = " ".join("WHEN seq >= %s THEN %s" for _ in shown[1:])
    params: list[Any] = [value for first, key_id in reversed(shown[1:]) for value in (first, key_id)]
    return f"(CASE {whens} ELSE %s END)::text", [*params, shown[0][1]]


def copy_sql(
    fmt: str, qs: QuerySet[AuditEvent], *, up_to_seq: int, starts: list[tuple[int, str]] | None = None
) -> tuple[str, tuple[Any, ...]]:
    """The COPY statement and its parameters for the matching events up to up_to_seq."""
    key_id, key_params = _key_id_sql(starts if starts is not None else segment_starts(), as_json=fmt == "jsonl")
    qs = qs.filter(seq__lte=up_to_seq).order_by("seq")
    query: QuerySet[Any, Any]
    if fmt == "jsonl":
        query = qs.annotate(line=RawSQL(_JSONL_LINE.replace("{key_id}", key_id), key_params)).values_list("line")
        template = _JSONL_COPY
    elif fmt == "csv":
        columns = {
            f"c{i}": RawSQL(_CSV_COLUMNS.get(name) or _NEUTRALISED.format(c=name), ())
            for i, name in enumerate(exports.DB_COLUMNS)
        }
        columns["c_key_id"] = RawSQL(key_id, key_params)
        query = qs.annotate(**columns).values_list(*columns)
        template = _CSV_COPY
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    sql, params = query.query.sql_with_params()
    return template.format(query=sql), tuple(params)


def copy_chunks(fmt: str, qs: QuerySet[AuditEvent], *, up_to_seq: int) -> Iterator[tuple[bytes, int, bool]]:
    """(bytes, rows, connection free) pieces, one COPY per SEQ_RANGE seq numbers from the first match on.

    COPY hands over one row per message; they are joined into CHUNK_BYTES pieces. While a COPY runs, its
    connection can run nothing else: the last piece of each range comes after the COPY ended and says so, which
    is when a prepared export may write its progress.
    """
    starts = segment_starts()
    if fmt == "csv":
        yield exports.csv_header().encode(), 0, True
    connection = connections[DEFAULT_DB_ALIAS]
    limit = exports.CHUNK_BYTES
    matching = qs.filter(seq__lte=up_to_seq).order_by("seq").values_list("seq", flat=True)
    low = next(iter(matching[:1]), None)
    while low is not None:
        high = min(low + exports.SEQ_RANGE - 1, up_to_seq)
        sql, params = copy_sql(fmt, qs.filter(seq__gte=low), up_to_seq=high, starts=starts)
        parts: list[Any] = []
        size = 0
        with connection.cursor() as cursor, cursor.cursor.copy(sql, params or None) as copy:
            for data in copy:  # a memoryview of one row; psycopg cancels the COPY if the download is dropped
                parts.append(data)
                size += len(data)
                if size >= limit:
                    yield b"".join(parts), len(parts), False
                    parts, size = [], 0
        yield b"".join(parts), len(parts), True
        low = next(iter(matching.filter(seq__gt=high)[:1]), None)  # a sparse filter skips empty ranges
