"""Export bytes: the same on SQLite and PostgreSQL, for CSV and JSONL, pinned by golden files.

PostgreSQL formats rows in SQL and streams them with COPY; SQLite formats them in Python. Both must give the
files in tests/audit/golden/ for the same events, and on PostgreSQL the two writers must agree on any event.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adminpanel.audit import background, exports
from adminpanel.audit.models import AuditEvent, AuditExport, JobStatus
from adminpanel.audit.services import SUCCEEDED, record
from tests.audit.export_samples import insert_samples

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden"
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="compares COPY with the Python writer")


def export(fmt: str, qs=None, up_to_seq: int = 10**9) -> bytes:
    qs = AuditEvent.objects.all() if qs is None else qs
    return b"".join(exports.stream(fmt, qs, up_to_seq=up_to_seq))


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_of_fixed_events_is_byte_for_byte_the_golden_file(fmt):
    insert_samples()
    assert export(fmt) == (GOLDEN / f"samples.{fmt}").read_bytes()


def test_both_formats_carry_every_chained_field_the_links_and_the_key_id():
    events = insert_samples()
    header = next(csv.reader(io.StringIO(export("csv").decode())))
    assert header == list(exports.COLUMNS)
    assert set(exports.COLUMNS) == {*(f.name for f in AuditEvent._meta.concrete_fields), "actor_id", "key_id"} - {
        "actor"
    }
    docs = [json.loads(line) for line in export("jsonl").decode().splitlines()]
    assert [list(doc) for doc in docs] == [list(exports.COLUMNS)] * 3
    assert [(d["seq"], d["prev_hash"], d["hash"], d["key_id"]) for d in docs] == [
        (e.seq, e.prev_hash, e.hash, "default") for e in events
    ]
    assert docs[0]["details"] == events[0].details and docs[2]["details"]["n"] == 12345678901234567890


def test_the_csv_reads_back_to_the_stored_values_once_neutralisation_is_undone():
    events = insert_samples()
    rows = list(csv.DictReader(io.StringIO(export("csv").decode(), newline="")))
    for event, row in zip(events, rows, strict=True):
        for name in exports.TEXT_COLUMNS:
            cell = exports.unneutralise(row[name])
            stored = getattr(event, name)
            assert (json.loads(cell) if name == "details" else cell) == stored, name
    assert rows[0]["authenticator_id"].startswith("'=") and rows[0]["ticket"] == "''already quoted"


hostile = st.text(st.characters(min_codepoint=1, exclude_categories=["Cs"]), max_size=30)


@settings(max_examples=300)
@given(hostile)
def test_neutralisation_defuses_every_formula_and_is_undone_exactly(value):
    cell = exports.neutralise(value)
    assert not cell.startswith(exports.FORMULA_START)
    assert exports.unneutralise(cell) == value


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | hostile,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(hostile, children, max_size=3),
    max_leaves=10,
)


@on_postgresql
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(hostile, min_size=6, max_size=6), details=st.dictionaries(hostile, json_values, max_size=4))
def test_copy_and_the_python_writer_give_the_same_bytes_for_any_event(texts, details):
    event = record(
        texts[0] or "x.y",
        SUCCEEDED,
        user_id=texts[1],
        authenticator_id=texts[2],
        verification_method=texts[3],
        reason=texts[4],
        ticket=texts[5],
        details=details,
    )
    qs = AuditEvent.objects.filter(seq__gte=event.seq)
    for fmt in ("csv", "jsonl"):
        python = b"".join(d for d, _, _ in exports.python_chunks(fmt, qs, up_to_seq=event.seq))
        assert export(fmt, qs, event.seq) == python


@on_postgresql
def test_copy_pieces_are_joined_to_the_chunk_size_and_a_dropped_download_frees_the_connection(monkeypatch):
    for i in range(300):
        record("user.view", SUCCEEDED, reason=f"row {i}")
    monkeypatch.setattr("adminpanel.audit.exports.CHUNK_BYTES", 4_096)
    pieces = list(exports.formatted_chunks("jsonl", AuditEvent.objects.all(), up_to_seq=300))
    assert sum(rows for _, rows, _ in pieces) == 300
    assert all(len(data) >= 4_096 for data, _, free in pieces if not free)
    assert [free for _, _, free in pieces].count(True) == 1  # 300 seq numbers: one COPY
    stream = exports.stream("csv", AuditEvent.objects.all(), up_to_seq=300)
    next(stream), next(stream)  # the header, then a piece from inside the COPY
    stream.close()  # the auditor closed the tab
    assert AuditEvent.objects.count() == 300  # the connection answers again


def test_a_prepared_export_writes_progress_only_between_copies(auditor_user, settings, tmp_path, monkeypatch):
    settings.VAR_DIR = tmp_path
    for i in range(120):
        record("user.view", SUCCEEDED, reason=f"row {i}")
    monkeypatch.setattr("adminpanel.audit.exports.CHUNK_BYTES", 2_000)  # many pieces inside each COPY
    monkeypatch.setattr("adminpanel.audit.exports.SEQ_RANGE", 50)
    monkeypatch.setattr("adminpanel.audit.background.PROGRESS_EVERY", 0)
    export_row = AuditExport.objects.create(requested_by=auditor_user, format="csv", up_to_seq=120)
    background.write_export(str(export_row.id))
    export_row.refresh_from_db()
    assert export_row.status == JobStatus.DONE and export_row.rows_written == 120
    assert (tmp_path / "exports" / export_row.file_path).read_bytes() == export("csv", up_to_seq=120)
