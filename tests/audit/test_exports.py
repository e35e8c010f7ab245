"""CSV and JSON Lines exports: the current filter, streamed, formulas neutralised, and audited."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse

from adminpanel.audit.models import AuditEvent
from adminpanel.audit.services import FAILED, SUCCEEDED, record

pytestmark = pytest.mark.django_db

HOSTILE = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", 'line1\r\nline2, "quoted"']


@pytest.fixture
def log(support_user) -> list[AuditEvent]:
    events = [
        record("authenticator.remove", (SUCCEEDED, FAILED)[i % 2], actor=support_user, user_id=f"u{i}", reason=r)
        for i, r in enumerate(HOSTILE)
    ]
    events += [record("user.view", SUCCEEDED, user_id="plain", reason=f"view {i}") for i in range(250)]
    return events


def body(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def test_csv_export_of_a_filter_is_an_attachment_with_formulas_neutralised(auditor_client, log):
    response = auditor_client.get(reverse("audit:export-csv"), {"action": "authenticator.remove"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment; filename=")
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [int(r["seq"]) for r in rows] == [e.seq for e in log[: len(HOSTILE)]]
    assert [r["reason"] for r in rows] == [
        '\'=HYPERLINK("http://evil")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        'line1\r\nline2, "quoted"',
    ]
    assert all(r["action"] == "authenticator.remove" for r in rows)


def test_csv_export_streams_every_matching_event_across_chunks(auditor_client, log, monkeypatch):
    monkeypatch.setattr("adminpanel.audit.exports.CHUNK", 40)
    response = auditor_client.get(reverse("audit:export-csv"), {"user": "plain"})
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert len(rows) == 250
    assert [int(r["seq"]) for r in rows] == sorted(int(r["seq"]) for r in rows)


def test_jsonl_export_keeps_values_verbatim_one_object_per_line(auditor_client, log):
    response = auditor_client.get(reverse("audit:export-jsonl"), {"outcome": "failed"})
    assert response["Content-Disposition"].startswith("attachment; filename=")
    lines = body(response).splitlines()
    docs = [json.loads(line) for line in lines]
    assert {d["outcome"] for d in docs} == {"failed"}
    assert [d["reason"] for d in docs] == [r for i, r in enumerate(HOSTILE) if i % 2]
    assert all(d["hash"] and d["prev_hash"] for d in docs)


def test_the_export_itself_is_audited_with_its_filter(auditor_client, log):
    response = auditor_client.get(reverse("audit:export-csv"), {"action": "authenticator.remove", "q": "evil"})
    rows = list(csv.DictReader(io.StringIO(body(response))))
    export = AuditEvent.objects.filter(action="audit.export").get()
    assert export.outcome == SUCCEEDED and export.actor_username == "ada.auditor"
    assert export.details == {"format": "csv", "filter": {"action": "authenticator.remove", "q": "evil"}}
    assert [int(r["seq"]) for r in rows] == [log[0].seq]
    assert all(int(r["seq"]) < export.seq for r in rows)


def test_an_invalid_filter_is_refused_before_anything_is_exported(auditor_client, log):
    response = auditor_client.get(reverse("audit:export-csv"), {"since": "2026-02-02", "until": "2026-01-01"})
    assert response.status_code == 422  # the list again, with what to fix, like any bad form
    body = response.content.decode()
    assert "Nothing was exported: fix the filter first." in body and "The end date is before the start date." in body
    (refused,) = AuditEvent.objects.filter(action="audit.export")
    assert refused.outcome == "denied" and refused.details["refused"] == "invalid_filter"
    assert "until" in refused.details["errors"]
