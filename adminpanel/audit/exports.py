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


def csv_stream(qs: QuerySet[AuditEvent], *, up_to_seq: int) -> Iterator[str]:
    line = _Line()
    writer = csv.writer(line)
    writer.writerow(COLUMNS)
    yield line.text
    for chunk in iter_events(qs, up_to_seq=up_to_seq):
        line.text = ""
        for row in chunk:
            doc = _plain(row)
            doc["details"] = json.dumps(doc["details"], sort_keys=True, ensure_ascii=False)
            writer.writerow([neutralise(v) if isinstance(v, str) else ("" if v is None else v) for v in doc.values()])
        yield line.text


def jsonl_stream(qs: QuerySet[AuditEvent], *, up_to_seq: int) -> Iterator[str]:
    """One JSON object per line, values verbatim (JSON escaping keeps them inert; no spreadsheet reads it)."""
    for chunk in iter_events(qs, up_to_seq=up_to_seq):
        yield "".join(json.dumps(_plain(row), ensure_ascii=False) + "\n" for row in chunk)
