"""Verify now and large exports run on background workers; the pages follow them by htmx polling."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from adminpanel.audit import background, exports
from adminpanel.audit.models import AuditEvent, AuditExport, ChainVerification, JobStatus, VerificationRequest
from adminpanel.audit.services import SUCCEEDED, record, run_verification
from tests.conftest import make_staff
from tests.helpers import tamper

pytestmark = pytest.mark.django_db

LIST = reverse("audit:events-list")
STATUS = reverse("audit:verify-status")
IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
DUMMY = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}  # queues, never runs
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def log(support_user) -> list[AuditEvent]:
    return [
        record(("user.view", "authenticator.remove")[i % 2], SUCCEEDED, actor=support_user, reason=f"=cmd {i}")
        for i in range(30)
    ]


@pytest.fixture
def low_threshold(settings):
    settings.AUDIT_EXPORT_BACKGROUND_OVER = 5


def streamed(client: Client, fmt: str, params: dict[str, str]) -> bytes:
    response = client.get(reverse(f"audit:export-{fmt}"), params)
    return b"".join(response.streaming_content)


def downloaded(response) -> bytes:
    return b"".join(response.streaming_content)


# --- Verify now ---


def test_verify_now_queues_a_task_that_stores_the_run_and_records_the_requester(auditor_client, log, settings):
    settings.TASKS = IMMEDIATE
    response = auditor_client.post(reverse("audit:verify"), follow=True)
    run = VerificationRequest.objects.get()
    assert run.status == JobStatus.DONE and run.active is None and run.requested_by_username == "ada.auditor"
    assert run.verification == ChainVerification.objects.get()
    # The click is recorded at once, the outcome by the worker, both under the run's id.
    requested, event = AuditEvent.objects.filter(action="audit.verify").order_by("seq")
    assert requested.outcome == "requested" and requested.actor_username == "ada.auditor"
    assert requested.correlation_id == event.correlation_id == run.id
    assert run.verification.ok and run.verification.events_checked == requested.seq  # everything up to the click
    assert event.outcome == SUCCEEDED and event.actor_username == "ada.auditor"
    assert event.details["background"] is True and event.details["head_seq"] == run.verification.head_seq
    body = response.content.decode()
    n = requested.seq
    assert f"Chain verified: {n} events intact." in body
    assert "Chain verified at" in body and f"({n} events, up to #{n})" in body


def test_while_a_verification_runs_the_status_box_polls_and_a_second_click_queues_nothing(auditor_client, settings):
    settings.TASKS = DUMMY
    first = auditor_client.post(reverse("audit:verify"), follow=True)
    assert "Verification started in the background" in first.content.decode()
    second = auditor_client.post(reverse("audit:verify"), follow=True)
    assert "A verification is already running" in second.content.decode()
    assert VerificationRequest.objects.count() == 1
    for response in (
        auditor_client.get(LIST),
        auditor_client.get(STATUS, headers=HTMX),
        auditor_client.post(reverse("audit:verify"), headers=HTMX),
    ):
        body = response.content.decode()
        assert "Verification running since" in body and "waiting for a worker" in body
        assert 'hx-trigger="every 2s"' in body and f'hx-get="{STATUS}"' in body
        assert "Verify now" not in body
    assert VerificationRequest.objects.count() == 1
    fragment = auditor_client.get(STATUS, headers=HTMX).content.decode()
    assert "<html" not in fragment and 'id="chain-status"' in fragment


def test_the_status_box_stops_polling_when_the_run_finishes(auditor_client, log, settings):
    settings.TASKS = DUMMY
    auditor_client.post(reverse("audit:verify"))
    run = VerificationRequest.objects.get()
    background.run_verification_request(str(run.id))  # what the worker does
    body = auditor_client.get(STATUS, headers=HTMX).content.decode()
    assert "hx-trigger" not in body and "Verification running" not in body
    n = AuditEvent.objects.get(action="audit.verify", outcome="requested").seq
    assert "Chain verified at" in body and f"({n} events, up to #{n})" in body
    assert "Verify now" in body
    # the task is idempotent: a retried task does not verify twice
    background.run_verification_request(str(run.id))
    assert ChainVerification.objects.count() == 1


def test_the_status_box_names_the_first_bad_seq_of_a_broken_chain(auditor_client, log, settings):
    settings.TASKS = IMMEDIATE
    tamper("UPDATE audit_auditevent SET reason = 'x' WHERE seq = 7")
    response = auditor_client.post(reverse("audit:verify"), headers=HTMX)
    body = response.content.decode()
    assert "Chain broken" in body and "first bad event #7" in body and "hx-trigger" not in body
    assert AuditEvent.objects.filter(action="audit.verify", outcome="failed").exists()


def test_an_abandoned_run_does_not_block_verify_now_forever(auditor_client, auditor_user, settings):
    settings.TASKS = DUMMY
    VerificationRequest.objects.create(
        requested_by=auditor_user, status=JobStatus.RUNNING, requested_at=timezone.now() - dt.timedelta(hours=2)
    )
    auditor_client.post(reverse("audit:verify"))
    assert VerificationRequest.objects.filter(active=True).count() == 1
    assert VerificationRequest.objects.filter(status=JobStatus.FAILED, error__startswith="abandoned").count() == 1


def test_the_verify_task_is_refused_to_support_staff(support_client):
    assert support_client.get(STATUS).status_code == 403
    assert AuditEvent.objects.filter(action="access.denied", details__view="audit:verify-status").exists()


# --- Exports ---


OPTIONS = reverse("audit:exports-options")


def test_the_list_offers_both_ways_and_asks_separately_which_fits(auditor_client, log, low_threshold):
    body = auditor_client.get(LIST, {"action": "user.view"}).content.decode()
    # the list itself never probes the size (that would slow every page): it offers both, and asks
    assert f'hx-get="{OPTIONS}?action=user.view"' in body and 'hx-trigger="load"' in body
    assert f'href="{reverse("audit:export-csv")}?action=user.view"' in body
    assert "Prepare export (CSV)" in body


def test_below_the_threshold_the_options_keep_the_streaming_links(auditor_client, log):
    body = auditor_client.get(OPTIONS, {"action": "user.view"}, headers=HTMX).content.decode()
    assert f'href="{reverse("audit:export-csv")}?action=user.view"' in body
    assert "Prepare export" not in body and "hx-trigger" not in body


def test_above_the_threshold_the_options_offer_to_prepare_the_export(auditor_client, log, low_threshold):
    body = auditor_client.get(OPTIONS, {"action": "user.view", "q": "cmd"}, headers=HTMX).content.decode()
    assert "Prepare export (CSV)" in body and "Prepare export (JSONL)" in body
    assert f'action="{reverse("audit:exports-create")}"' in body
    assert '<input type="hidden" name="action" value="user.view">' in body
    assert '<input type="hidden" name="q" value="cmd">' in body
    assert reverse("audit:export-csv") not in body
    # exactly at the threshold (cmd 10, 12, 14, 16, 18) it is still streamed
    narrow = auditor_client.get(OPTIONS, {"action": "user.view", "q": "cmd 1"}, headers=HTMX).content.decode()
    assert "Prepare export" not in narrow


def test_the_options_are_for_auditors_only(support_client):
    assert support_client.get(OPTIONS).status_code == 403


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_prepared_export_holds_the_same_bytes_as_the_streamed_one(auditor_client, log, low_threshold, settings, fmt):
    settings.TASKS = IMMEDIATE
    params = {"action": "user.view", "q": "cmd"}
    response = auditor_client.post(reverse("audit:exports-create"), {**params, "format": fmt})
    export = AuditExport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("audit:exports-detail", args=[export.id])
    assert export.status == JobStatus.DONE and export.rows_written == 15 and export.total_estimate == 15
    assert export.filter_params == params and export.requested_by.username == "ada.auditor"
    path = settings.VAR_DIR / "exports" / export.file_path
    assert path.read_bytes() == streamed(auditor_client, fmt, params)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    requested = AuditEvent.objects.filter(action="audit.export", details__step="requested").get()
    assert requested.actor_username == "ada.auditor"
    assert requested.details["background"] is True and requested.details["format"] == fmt
    assert requested.details["filter"] == {"action": "user.view", "q": "cmd"}


def test_an_unfiltered_export_counts_its_rows_chunk_by_chunk(auditor_client, log, settings, monkeypatch):
    settings.TASKS = IMMEDIATE
    monkeypatch.setattr("adminpanel.audit.exports.CHUNK", 7)  # rows per query on the Python path
    monkeypatch.setattr("adminpanel.audit.exports.SEQ_RANGE", 7)  # seq numbers per COPY on PostgreSQL
    monkeypatch.setattr("adminpanel.audit.background.PROGRESS_EVERY", 0)
    seen: list[int] = []
    counts: list[int] = []
    real_chunks = exports.formatted_chunks

    def watched(fmt, qs, *, up_to_seq):  # before each chunk: what the progress page would show
        for data, count, db_free in real_chunks(fmt, qs, up_to_seq=up_to_seq):
            assert db_free  # each COPY range fits in one piece here
            seen.append(AuditExport.objects.get().rows_written)
            counts.append(count)
            yield data, count, db_free

    monkeypatch.setattr("adminpanel.audit.exports.formatted_chunks", watched)
    auditor_client.post(reverse("audit:exports-create"), {"format": "jsonl"})
    export = AuditExport.objects.get()
    n = export.up_to_seq  # every event before the export was asked for
    assert counts == [7] * (n // 7) + ([n % 7] if n % 7 else []) and seen == list(range(0, n, 7))
    assert export.total_estimate == export.rows_written == n  # seq is gap-free: no count
    lines = (settings.VAR_DIR / "exports" / export.file_path).read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == list(range(1, n + 1))


def test_the_progress_page_polls_while_the_export_is_written(auditor_client, auditor_user, log, settings):
    settings.TASKS = DUMMY
    auditor_client.post(reverse("audit:exports-create"), {"action": "user.view", "format": "csv"})
    export = AuditExport.objects.get()
    url = reverse("audit:exports-detail", args=[export.id])
    queued = auditor_client.get(url).content.decode()
    assert "Waiting for a worker" in queued and 'hx-trigger="every 2s"' in queued and "action=user.view" in queued
    AuditExport.objects.filter(pk=export.pk).update(status=JobStatus.RUNNING, rows_written=50, total_estimate=200)
    running = auditor_client.get(url, headers=HTMX)
    body = running.content.decode()
    assert "<html" not in body and "50 rows written of 200 (25 %)" in body and 'hx-trigger="every 2s"' in body
    assert "HX-Request" in running["Vary"]
    AuditExport.objects.filter(pk=export.pk).update(status=JobStatus.QUEUED, rows_written=0)
    background.write_export(str(export.id))  # what the worker does
    done = auditor_client.get(url, headers=HTMX).content.decode()
    assert "hx-trigger" not in done and "15 rows in" in done
    assert f'href="{reverse("audit:exports-download", args=[export.id])}"' in done


def test_an_export_whose_worker_died_stops_polling_and_says_so(auditor_client, log, settings):
    settings.TASKS = DUMMY
    auditor_client.post(reverse("audit:exports-create"), {"action": "user.view", "format": "csv"})
    export = AuditExport.objects.get()
    long_ago = timezone.now() - background.EXPORT_ABANDONED_AFTER - dt.timedelta(minutes=1)
    AuditExport.objects.filter(pk=export.pk).update(status=JobStatus.RUNNING, created_at=long_ago)
    body = auditor_client.get(reverse("audit:exports-detail", args=[export.id]), headers=HTMX).content.decode()
    assert "hx-trigger" not in body and "abandoned" in body
    assert AuditExport.objects.get().status == JobStatus.RUNNING  # a page view writes nothing
    call_command("cleanup", stdout=io.StringIO())
    assert AuditExport.objects.get().status == JobStatus.FAILED


def test_the_download_is_an_attachment_and_is_audited(auditor_client, log, low_threshold, settings):
    settings.TASKS = IMMEDIATE
    auditor_client.post(reverse("audit:exports-create"), {"action": "user.view", "format": "csv"})
    export = AuditExport.objects.get()
    response = auditor_client.get(reverse("audit:exports-download", args=[export.id]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    assert response["Content-Type"].startswith("text/csv")
    assert downloaded(response) == (settings.VAR_DIR / "exports" / export.file_path).read_bytes()
    event = AuditEvent.objects.filter(action="audit.export", details__step="downloaded").get()
    assert event.actor_username == "ada.auditor" and event.outcome == SUCCEEDED
    assert event.details == {
        "format": "csv",
        "filter": {"action": "user.view"},
        "background": True,
        "step": "downloaded",
        "export_id": str(export.id),
        "rows": 15,
    }


def test_an_unfinished_export_cannot_be_downloaded(auditor_client, settings):
    settings.TASKS = DUMMY
    auditor_client.post(reverse("audit:exports-create"), {"format": "csv"})
    export = AuditExport.objects.get()
    assert auditor_client.get(reverse("audit:exports-download", args=[export.id])).status_code == 404
    assert not AuditEvent.objects.filter(details__step="downloaded").exists()


def test_another_auditor_is_refused_and_the_refusal_is_audited(auditor_client, log, settings):
    settings.TASKS = IMMEDIATE
    auditor_client.post(reverse("audit:exports-create"), {"format": "csv"})
    export = AuditExport.objects.get()
    other = Client()
    other.force_login(make_staff("otto.auditor", "Auditor"))
    for name in ("audit:exports-detail", "audit:exports-download"):
        url = reverse(name, args=[export.id])
        response = other.get(url)
        assert response.status_code == 403
        denied = AuditEvent.objects.filter(action="access.denied").latest("seq")
        assert denied.actor_username == "otto.auditor" and denied.details["path"] == url
    assert not AuditEvent.objects.filter(details__step="downloaded").exists()


def test_support_staff_cannot_prepare_exports(support_client):
    response = support_client.post(reverse("audit:exports-create"), {"format": "csv"})
    assert response.status_code == 403
    assert not AuditExport.objects.exists()
    assert AuditEvent.objects.filter(action="access.denied", details__view="audit:exports-create").exists()


def test_a_bad_export_request_is_refused_without_queueing(auditor_client):
    response = auditor_client.post(reverse("audit:exports-create"), {"format": "xlsx"})
    assert response.status_code == 422 and "choose CSV or JSON Lines" in response.content.decode()
    response = auditor_client.post(
        reverse("audit:exports-create"), {"format": "csv", "since": "2026-02-02", "until": "2026-01-01"}
    )
    assert response.status_code == 422 and "The end date is before the start date." in response.content.decode()
    assert not AuditExport.objects.exists()
    assert AuditEvent.objects.filter(action="audit.export", outcome="denied").count() == 2


def test_purge_exports_deletes_old_files_and_marks_them_expired(auditor_client, log, settings):
    settings.TASKS = IMMEDIATE
    for _ in range(2):
        auditor_client.post(reverse("audit:exports-create"), {"format": "csv"})
    old, recent = AuditExport.objects.order_by("created_at")
    AuditExport.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=8))
    old_file = settings.VAR_DIR / "exports" / old.file_path
    recent_file = settings.VAR_DIR / "exports" / recent.file_path
    call_command("audit", "purge-exports")
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.status == JobStatus.EXPIRED and old.file_path == "" and not old_file.exists()
    assert recent.status == JobStatus.DONE and recent_file.exists()
    assert auditor_client.get(reverse("audit:exports-download", args=[old.id])).status_code == 404
    assert "deleted after 7 days" in auditor_client.get(reverse("audit:exports-detail", args=[old.id])).content.decode()
    call_command("audit", "purge-exports", "--older-than-days", "0")
    assert not recent_file.exists()


# --- A real worker ---


@pytest.mark.django_db(transaction=True)
def test_the_database_backend_and_db_worker_complete_an_export(audit_log_flushable, auditor_user, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    client = Client()
    client.force_login(auditor_user)
    for i in range(12):
        record("user.view", SUCCEEDED, reason=f"row {i}")
    client.post(reverse("audit:exports-create"), {"action": "user.view", "format": "jsonl"})
    client.post(reverse("audit:verify"))
    export = AuditExport.objects.get()
    assert export.status == JobStatus.QUEUED
    assert VerificationRequest.objects.get().status == JobStatus.QUEUED
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    export.refresh_from_db()
    assert export.status == JobStatus.DONE and export.rows_written == 12
    assert (settings.VAR_DIR / "exports" / export.file_path).read_bytes() == streamed(
        client, "jsonl", {"action": "user.view"}
    )
    verification = VerificationRequest.objects.get()
    assert verification.status == JobStatus.DONE and verification.verification.ok
    assert run_verification(source="test").ok
