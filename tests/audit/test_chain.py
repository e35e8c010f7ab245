"""record() builds a linear HMAC chain and verify finds every kind of tampering, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import connection

from adminpanel.audit import chain
from adminpanel.audit.models import GENESIS_HASH, AuditEvent
from adminpanel.audit.services import FAILED, REQUESTED, SUCCEEDED, record
from tests.helpers import tamper

pytestmark = pytest.mark.django_db

T = "audit_auditevent"


def make_events(n: int = 6) -> list[AuditEvent]:
    return [
        record(
            "authenticator.remove",
            REQUESTED if i % 2 == 0 else SUCCEEDED,
            user_id=f"user-{i}",
            reason=f"reason {i}",
            ticket=f"SUP-{i}",
            details={"before": [{"id": "a1", "method": "SMS"}], "n": i, "ratio": 0.5, "whole": 2.0},
        )
        for i in range(n)
    ]


def test_record_builds_a_gap_free_chain_from_genesis():
    events = make_events(5)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
        assert after.created_at >= before.created_at
    result = chain.verify_chain()
    assert result.ok, result.message
    assert result.head_seq == 5 and result.head_hash == events[-1].hash


def test_record_returns_a_correlation_id_to_pass_on():
    req = record("authenticator.enroll", REQUESTED, user_id="u1")
    assert isinstance(req.correlation_id, uuid.UUID)
    done = record("authenticator.enroll", FAILED, correlation_id=req.correlation_id, user_id="u1")
    assert done.correlation_id == req.correlation_id


def test_record_refuses_an_unknown_outcome():
    with pytest.raises(ValueError):
        record("user.view", "maybe")


def test_stored_events_recompute_their_hash_after_a_database_round_trip():
    make_events(3)
    record("pii.reveal", SUCCEEDED, details={"big": 10**20, "f": 1e16, "nan": float("nan"), "nul": "a\x00b"})
    for event in AuditEvent.objects.all():
        assert chain.event_hash_ok(event), event.seq


def test_verify_passes_on_an_empty_log():
    result = chain.verify_chain()
    assert result.ok and result.events_checked == 0


def test_verify_finds_one_edited_byte_of_a_reason():
    make_events()
    tamper(f"UPDATE {T} SET reason = %s WHERE seq = 3", ["reason 3!"])
    result = chain.verify_chain()
    assert not result.ok and result.first_bad_seq == 3


def test_verify_finds_an_edited_details_document():
    make_events()
    details = json.dumps({"before": [], "n": 4, "ratio": 0.5, "whole": 2})
    tamper(f"UPDATE {T} SET details = %s WHERE seq = 5", [details])
    result = chain.verify_chain()
    assert not result.ok and result.first_bad_seq == 5


def test_verify_finds_a_deleted_event():
    make_events()
    tamper(f"DELETE FROM {T} WHERE seq = 4")
    result = chain.verify_chain()
    assert not result.ok and result.first_bad_seq == 4
    assert "missing" in result.message


def test_verify_finds_a_forged_event_appended_without_the_key():
    events = make_events()
    forged = AuditEvent(
        id=uuid.uuid4(),
        seq=7,
        created_at=events[-1].created_at,
        action="authenticator.remove",
        outcome=SUCCEEDED,
        correlation_id=uuid.uuid4(),
        user_id="victim",
        prev_hash=events[-1].hash,
    )
    forged.hash = chain.compute_hash(forged.prev_hash, chain.event_values(forged), key=b"guessed-key")
    AuditEvent.objects.bulk_create([forged])
    result = chain.verify_chain()
    assert not result.ok and result.first_bad_seq == 7


def test_verify_finds_a_forged_event_inserted_in_the_middle():
    make_events()
    # Make room by moving the tail up one seq, then insert a forged #4 that links to #3.
    tamper(f"UPDATE {T} SET seq = seq + 100 WHERE seq >= 4")
    tamper(f"UPDATE {T} SET seq = seq - 99 WHERE seq >= 100")
    prev = AuditEvent.objects.get(seq=3)
    forged = AuditEvent(
        id=uuid.uuid4(),
        seq=4,
        created_at=prev.created_at,
        action="user.view",
        outcome=SUCCEEDED,
        correlation_id=uuid.uuid4(),
        prev_hash=prev.hash,
    )
    forged.hash = chain.compute_hash(forged.prev_hash, chain.event_values(forged), key=b"not-the-key")
    AuditEvent.objects.bulk_create([forged])
    result = chain.verify_chain()
    assert not result.ok and result.first_bad_seq == 4


def test_verify_finds_two_events_whose_content_was_swapped():
    make_events()
    columns = [f.column for f in AuditEvent._meta.concrete_fields if f.name not in ("id", "seq")]
    a, b = AuditEvent.objects.get(seq=2), AuditEvent.objects.get(seq=3)
    assignments = ", ".join(f"{c} = %s" for c in columns)

    def values(event: AuditEvent) -> list[object]:
        out: list[object] = []
        for f in AuditEvent._meta.concrete_fields:
            if f.name in ("id", "seq"):
                continue
            out.append(f.get_db_prep_save(getattr(event, f.attname), connection))
        return out

    tamper(f"UPDATE {T} SET {assignments} WHERE seq = 2", values(b))
    tamper(f"UPDATE {T} SET {assignments} WHERE seq = 3", values(a))
    result = chain.verify_chain()
    assert not result.ok and result.first_bad_seq == 2


def test_verify_finds_a_tail_rehashed_without_the_key():
    make_events()
    prev_hash = AuditEvent.objects.get(seq=3).hash
    for event in AuditEvent.objects.filter(seq__gte=4).order_by("seq"):
        event.reason = "rewritten"
        new_hash = chain.compute_hash(prev_hash, chain.event_values(event), key=b"attacker-key")
        tamper(
            f"UPDATE {T} SET reason = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [event.reason, prev_hash, new_hash, event.seq],
        )
        prev_hash = new_hash
    result = chain.verify_chain()
    assert not result.ok and result.first_bad_seq == 4


def test_a_checkpoint_catches_a_truncated_tail():
    make_events()
    from adminpanel.audit.services import chain_checkpoint

    checkpoint = chain_checkpoint()
    assert checkpoint["seq"] == 6 and checkpoint["count"] == 6
    tamper(f"DELETE FROM {T} WHERE seq >= 5")
    assert chain.verify_chain().ok  # without the checkpoint a cut tail looks like a shorter log
    result = chain.verify_chain(checkpoint=checkpoint)
    assert not result.ok and result.first_bad_seq == 5


def test_a_checkpoint_catches_a_tail_rewritten_with_the_key():
    make_events()
    from adminpanel.audit.services import chain_checkpoint

    checkpoint = chain_checkpoint()
    prev_hash = AuditEvent.objects.get(seq=5).hash
    event = AuditEvent.objects.get(seq=6)
    event.reason = "rewritten by an insider"
    new_hash = chain.compute_hash(prev_hash, chain.event_values(event))
    tamper(f"UPDATE {T} SET reason = %s, hash = %s WHERE seq = 6", [event.reason, new_hash])
    assert chain.verify_chain().ok
    result = chain.verify_chain(checkpoint=checkpoint)
    assert not result.ok and result.first_bad_seq == 6
