"""CSV and JSON Lines exports of a filtered audit log, streamed in constant memory by keyset chunks."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from adminpanel.audit.chain import CHAIN_FIELDS, timestamp
from adminpanel.audit.models import AuditEvent

# seq first (the reader's key), then every chained field, then the chain links.
COLUMNS = ("seq", *(name for name in CHAIN_FIELDS if name != "seq"), "prev_hash", "hash")
CHUNK = 2_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe ("=1+1" -> "'=1+1")."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def iter_events(qs: QuerySet[AuditEvent], *, up_to_seq: int) -> Iterator[list[tuple[Any, ...]]]:
    """The matching events oldest first, as chunks of value tuples; each chunk is a fresh keyset query."""
    last = 0
    qs = qs.filter(seq__lte=up_to_seq).order_by("seq").values_list(*COLUMNS)
    while True:
        chunk = list(qs.filter(seq__gt=last)[:CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1][0]


def _plain(row: tuple[Any, ...]) -> dict[str, Any]:
    doc = dict(zip(COLUMNS, row, strict=True))
    doc["id"] = str(doc["id"])
    doc["correlation_id"] = str(doc["correlation_id"])
    doc["created_at"] = timestamp(doc["created_at"])
    return doc


class _Line:
    """A file-like object csv.writer writes one line into, so rows can be yielded as text."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, value: str) -> None:
        self.text += value


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return neutralise(value)
    return "" if value is None else value


def csv_header() -> str:
    line = _Line()
    csv.writer(line).writerow(COLUMNS)
    return line.text


def csv_lines(chunk: list[tuple[Any, ...]]) -> str:
    line = _Line()
    writer = csv.writer(line)
    for row in chunk:
        doc = _plain(row)
        doc["details"] = json.dumps(doc["details"], sort_keys=True, ensure_ascii=False)
        writer.writerow([_cell(v) for v in doc.values()])
    return line.text


def jsonl_lines(chunk: list[tuple[Any, ...]]) -> str:
    """One JSON object per line, values verbatim (JSON escaping keeps them inert; no spreadsheet reads it)."""
    return "".join(json.dumps(_plain(row), ensure_ascii=False) + "\n" for row in chunk)


def formatted_chunks(fmt: str, qs: QuerySet[AuditEvent], *, up_to_seq: int) -> Iterator[tuple[str, int]]:
    """(text, rows in it) pieces of a whole export: the one writer behind streamed and prepared exports."""
    if fmt == "csv":
        yield csv_header(), 0
        lines = csv_lines
    elif fmt == "jsonl":
        lines = jsonl_lines
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    for chunk in iter_events(qs, up_to_seq=up_to_seq):
        yield lines(chunk), len(chunk)


def csv_stream(qs: QuerySet[AuditEvent], *, up_to_seq: int) -> Iterator[str]:
    return (text for text, _ in formatted_chunks("csv", qs, up_to_seq=up_to_seq))


def jsonl_stream(qs: QuerySet[AuditEvent], *, up_to_seq: int) -> Iterator[str]:
    return (text for text, _ in formatted_chunks("jsonl", qs, up_to_seq=up_to_seq))
