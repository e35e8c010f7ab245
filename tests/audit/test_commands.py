"""manage.py audit verify | checkpoint | seed | reconcile."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from adminpanel.audit import chain
from adminpanel.audit.models import AuditEvent, ChainVerification
from adminpanel.audit.services import REQUESTED, SUCCEEDED, record, run_verification
from adminpanel.core.masking import contact_digest, mask_contact
from tests.helpers import tamper

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("audit", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_verify_prints_a_one_line_summary_and_stores_the_result():
    for i in range(5):
        record("user.view", SUCCEEDED, user_id=f"u{i}")
    out = run("verify")
    assert out.startswith("OK: 5 events") and out.count("\n") == 1
    assert ChainVerification.objects.get().ok
    assert AuditEvent.objects.filter(action="audit.verify").exists()


def test_verify_exits_non_zero_naming_the_first_bad_seq():
    for i in range(5):
        record("user.view", SUCCEEDED, user_id=f"u{i}")
    tamper("UPDATE audit_auditevent SET user_id = 'someone-else' WHERE seq = 2")
    with pytest.raises(CommandError, match="seq 2") as excinfo:
        run("verify")
    assert excinfo.value.returncode == 1
    assert ChainVerification.objects.get().first_bad_seq == 2


def test_checkpoint_then_verify_catches_a_truncated_tail(tmp_path):
    for i in range(5):
        record("user.view", SUCCEEDED, user_id=f"u{i}")
    path = tmp_path / "head.json"
    call_command("audit", "checkpoint", "--output", str(path), stderr=io.StringIO())
    saved = json.loads(path.read_text())
    assert saved["seq"] == 5 and saved["count"] == 5 and len(saved["hash"]) == 64 and saved["time"]
    assert json.loads(run("checkpoint"))["hash"] == saved["hash"]
    assert run("verify", "--checkpoint", str(path)).startswith("OK")
    tamper("DELETE FROM audit_auditevent WHERE seq >= 5")
    with pytest.raises(CommandError, match="seq 5"):
        run("verify", "--checkpoint", str(path))


def test_seed_appends_a_valid_synthetic_chain():
    run("seed", "--count", "2500", "--batch-size", "1000")
    assert AuditEvent.objects.count() == 2500
    assert not AuditEvent.objects.exclude(actor_username__startswith="synthetic.").exists()
    assert AuditEvent.objects.filter(details__synthetic=True).count() == 2500
    assert chain.verify_chain().ok
    record("user.view", SUCCEEDED)  # real events continue the seeded chain
    assert chain.verify_chain().ok


def test_seed_refuses_a_log_with_real_events():
    record("user.view", SUCCEEDED, user_id="u1")
    with pytest.raises(CommandError, match="real events"):
        run("seed", "--count", "10")
    assert AuditEvent.objects.count() == 1


# --- reconcile ---


def stale(event: AuditEvent) -> None:
    """Backdate a requested event so reconcile considers it abandoned (breaks its hash; fine here)."""
    old = event.created_at - dt.timedelta(hours=1)
    tamper("UPDATE audit_auditevent SET created_at = %s WHERE seq = %s", [old, event.seq])


def test_reconcile_settles_enrolls_and_removals_from_what_authsignal_has_now(fresh_emulator):
    from adminpanel.authsignal.connection import get_client

    client = get_client()
    client.enroll_verified_authenticator("alice", verification_method="SMS", phone_number="+14155550101")
    client.enroll_verified_authenticator("alice", verification_method="EMAIL_OTP", email="alice@example.com")
    kept_id = next(a.user_authenticator_id for a in client.get_authenticators("alice") if a.email)
    phone = "+14155550101"
    enrolled = record(
        "authenticator.enroll",
        REQUESTED,
        user_id="alice",
        verification_method="SMS",
        details={"contact_masked": mask_contact(phone), "contact_digest": contact_digest(phone)},
    )
    never = record(
        "authenticator.enroll",
        REQUESTED,
        user_id="alice",
        verification_method="SMS",
        details={"contact_digest": contact_digest("+14155550199")},
    )
    removed = record("authenticator.remove", REQUESTED, user_id="alice", authenticator_id="gone-id")
    not_removed = record("authenticator.remove", REQUESTED, user_id="alice", authenticator_id=kept_id)
    fresh = record("authenticator.remove", REQUESTED, user_id="alice", authenticator_id="x")
    answered = record("authenticator.remove", REQUESTED, user_id="alice", authenticator_id="y")
    record("authenticator.remove", SUCCEEDED, correlation_id=answered.correlation_id, user_id="alice")
    for event in (enrolled, never, removed, not_removed, answered):
        stale(event)

    out = run("reconcile", "--older-than", "15")

    def outcome_of(req: AuditEvent) -> str | None:
        done = AuditEvent.objects.filter(correlation_id=req.correlation_id).exclude(outcome=REQUESTED).first()
        return done.outcome if done else None

    assert outcome_of(enrolled) == "succeeded"
    assert outcome_of(never) == "failed"
    assert outcome_of(removed) == "succeeded"
    assert outcome_of(not_removed) == "failed"
    assert outcome_of(fresh) is None  # too recent: the request may still be in flight
    assert AuditEvent.objects.filter(correlation_id=answered.correlation_id).count() == 2
    assert "reconciled 4" in out


def test_reconcile_leaves_events_for_the_next_run_when_authsignal_fails(fresh_emulator, monkeypatch):
    from adminpanel.authsignal.connection import get_client
    from adminpanel.authsignal.errors import Unavailable

    def down(user_id: str):
        raise Unavailable("Authsignal is unavailable")

    monkeypatch.setattr(get_client(), "get_authenticators", down)
    req = record("authenticator.remove", REQUESTED, user_id="bob", authenticator_id="a1")
    stale(req)
    out = run("reconcile")
    assert "left as is" in out and "next run" in out
    assert AuditEvent.objects.filter(correlation_id=req.correlation_id).count() == 1


def test_reconcile_settles_each_action_of_a_correlation_on_its_own(fresh_emulator):
    """A removal and its override share a correlation id; an outcome of one never settles the other."""
    from adminpanel.authsignal.connection import get_client

    client = get_client()
    kept = client.enroll_verified_authenticator("carl", verification_method="SMS", phone_number="+14155550109")
    removal = record("authenticator.remove", REQUESTED, user_id="carl", authenticator_id="gone-id")
    override = record(
        "lockout.override", REQUESTED, correlation_id=removal.correlation_id, user_id="carl", authenticator_id="gone-id"
    )
    # What older code wrote: an override outcome before the DELETE, and then nothing (the worker died).
    early = record("authenticator.remove", REQUESTED, user_id="carl", authenticator_id="gone-too")
    record(
        "lockout.override", SUCCEEDED, correlation_id=early.correlation_id, user_id="carl", authenticator_id="gone-too"
    )
    kept_removal = record(
        "authenticator.remove", REQUESTED, user_id="carl", authenticator_id=kept.authenticator.user_authenticator_id
    )
    for event in (removal, override, early, kept_removal):
        stale(event)

    out = run("reconcile", "--older-than", "15")

    def outcomes_of(req: AuditEvent) -> list[str]:
        return list(
            AuditEvent.objects.filter(correlation_id=req.correlation_id, action=req.action)
            .exclude(outcome=REQUESTED)
            .values_list("outcome", flat=True)
        )

    assert outcomes_of(removal) == ["succeeded"]
    assert outcomes_of(override) == ["succeeded"]
    assert outcomes_of(early) == ["succeeded"]
    assert outcomes_of(kept_removal) == ["failed"]
    assert "reconciled 4" in out
    assert run("reconcile", "--older-than", "15").count("reconciled 0") == 1  # nothing left open


def test_reconcile_settles_a_verify_click_from_the_run_it_started(auditor_user, settings):
    from adminpanel.audit import background
    from adminpanel.audit.models import JobStatus, VerificationRequest

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    run_, queued = background.request_verification(auditor_user)
    assert queued
    assert AuditEvent.objects.filter(action="audit.verify", outcome=REQUESTED).count() == 1
    assert "still queued" in run("reconcile", "--older-than", "0")  # a worker may yet pick it up
    # The worker verified and stored the run, then died before recording the outcome.
    verification = run_verification(source="ui")
    VerificationRequest.objects.filter(pk=run_.pk).update(status=JobStatus.DONE, verification=verification)
    assert "reconciled 1" in run("reconcile", "--older-than", "0")
    outcome = AuditEvent.objects.filter(action="audit.verify").exclude(outcome=REQUESTED).get()
    assert outcome.outcome == "succeeded" and outcome.correlation_id == run_.id
