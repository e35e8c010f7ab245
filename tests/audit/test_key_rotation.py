"""Key rotation: segments under new keys, verify across them, a missing old key, stable contact digests."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError

from adminpanel.audit import chain, keys
from adminpanel.audit.models import GENESIS_HASH, AuditEvent
from adminpanel.audit.services import FAILED, SUCCEEDED, KeyRotationRefused, record, rotate_key
from adminpanel.core.masking import contact_digest
from tests.helpers import tamper

pytestmark = pytest.mark.django_db

OLD = b"test-audit-chain-key"  # tests/settings.py's AUDIT_CHAIN_KEY, id "default"
K2, K3 = b"second-key-0123456789", b"third-key-9876543210"
T = "audit_auditevent"


def events(n: int, label: str) -> list[AuditEvent]:
    return [record("user.view", SUCCEEDED, user_id=f"{label}-{i}", reason=f"{label} {i}") for i in range(n)]


@pytest.fixture
def three_segments(settings) -> dict[str, list[AuditEvent]]:
    """default: #1–3; k2: rotation #4 + #5–7; k3: rotation #8 + #9–11."""
    seg1 = events(3, "one")
    settings.AUDIT_CHAIN_KEYS = {"default": OLD, "k2": K2}
    rot2 = rotate_key(reason="yearly rotation")
    seg2 = events(3, "two")
    settings.AUDIT_CHAIN_KEYS = {"default": OLD, "k2": K2, "k3": K3}
    rot3 = rotate_key(reason="k2 may have leaked")
    seg3 = events(3, "three")
    return {"one": seg1, "two": [rot2, *seg2], "three": [rot3, *seg3]}


def test_rotating_twice_starts_two_segments_that_verify(three_segments):
    rot2, rot3 = three_segments["two"][0], three_segments["three"][0]
    assert (rot2.seq, rot3.seq) == (4, 8)
    assert rot2.action == "audit.key_rotated" and rot2.outcome == SUCCEEDED
    assert rot2.details["key_id"] == "k2" and rot2.details["previous_key_id"] == "default"
    assert rot2.details["previous_head_seq"] == 3
    assert rot2.details["previous_head_hash"] == three_segments["one"][-1].hash
    assert rot2.prev_hash == three_segments["one"][-1].hash
    assert rot3.details["key_id"] == "k3" and rot3.details["previous_key_id"] == "k2"
    stored = AuditEvent.objects.get(seq=4)
    assert K2.decode() not in str(stored.details) and OLD.decode() not in str(stored.details)  # the id, never the key
    # each segment is signed by its own key
    for label, key in (("one", OLD), ("two", K2), ("three", K3)):
        for event in three_segments[label]:
            assert event.hash == chain.compute_hash(event.prev_hash, chain.event_values(event), key=key)
    result = chain.verify_chain()
    assert result.ok, result.summary()
    assert [(s.number, s.key_id, s.first_seq, s.last_seq) for s in result.segments] == [
        (1, "default", 1, 3),
        (2, "k2", 4, 7),
        (3, "k3", 8, 11),
    ]
    assert "in 3 key segments" in result.summary()


@pytest.mark.parametrize(("label", "seq"), [("one", 2), ("two", 6), ("three", 10), ("three", 8)])
def test_tampering_in_any_segment_is_named(three_segments, label, seq):
    tamper(f"UPDATE {T} SET reason = 'rewritten' WHERE seq = %s", [seq])
    result = chain.verify_chain()
    assert not result.ok and result.first_bad_seq == seq
    assert result.summary().startswith(f"BROKEN at seq {seq}: event #{seq} does not match its hash")


def test_verify_goes_on_after_the_first_problem_and_lists_every_one(three_segments):
    for seq in (2, 6, 10):
        tamper(f"UPDATE {T} SET reason = 'rewritten' WHERE seq = %s", [seq])
    result = chain.verify_chain()
    assert result.first_bad_seq == 2 and result.problem_count == 3
    assert [p.split(":")[0] for p in result.problems] == ["seq 2", "seq 6", "seq 10"]
    assert "(2 more problems after it)" in result.summary()


def test_a_missing_old_key_leaves_its_segment_unverifiable_not_broken(three_segments, settings):
    settings.AUDIT_CHAIN_KEYS = {"default": OLD, "k3": K3}
    result = chain.verify_chain()
    assert not result.ok and result.first_bad_seq is None
    assert result.summary().startswith(
        "INCOMPLETE: segment 2 (key id k2, seq 4–7) cannot be checked: its key is not configured"
    )
    # verification goes on where it can: a change in the next segment is still found
    tamper(f"UPDATE {T} SET reason = 'rewritten' WHERE seq = 9")
    result = chain.verify_chain()
    assert result.first_bad_seq == 9
    assert "segment 2 (key id k2, seq 4–7) cannot be checked" in result.summary()


def test_links_are_still_checked_in_a_segment_whose_key_is_missing(three_segments, settings):
    settings.AUDIT_CHAIN_KEYS = {"default": OLD, "k3": K3}
    tamper(f"DELETE FROM {T} WHERE seq = 6")
    result = chain.verify_chain()
    assert result.first_bad_seq == 6 and "missing" in result.message


def test_the_verify_command_exits_3_when_a_segment_cannot_be_checked(three_segments, settings):
    settings.AUDIT_CHAIN_KEYS = {"default": OLD, "k3": K3}
    with pytest.raises(CommandError, match=r"segment 2 \(key id k2, seq 4–7\) cannot be checked") as excinfo:
        call_command("audit", "verify", stdout=io.StringIO())
    assert excinfo.value.returncode == 3


def test_a_rotation_back_to_an_older_key_is_reported_as_forged(three_segments, settings):
    # Someone holding the old key appends a "rotation" back to it and signs what follows with it.
    head = AuditEvent.objects.get(seq=11)
    forged = AuditEvent(
        id=AuditEvent.objects.get(seq=1).id.__class__(int=12345, version=4),
        seq=12,
        created_at=head.created_at,
        action="audit.key_rotated",
        outcome=SUCCEEDED,
        correlation_id=head.correlation_id,
        details={"key_id": "default", "previous_key_id": "k3"},
        prev_hash=head.hash,
    )
    forged.hash = chain.compute_hash(forged.prev_hash, chain.event_values(forged), key=OLD)
    AuditEvent.objects.bulk_create([forged])
    result = chain.verify_chain()
    assert result.first_bad_seq == 12 and "not newer: forged" in result.message


def test_rotating_without_a_newer_key_is_refused_and_recorded():
    events(2, "x")
    with pytest.raises(KeyRotationRefused, match="already signs with the newest configured key"):
        rotate_key(reason="nothing new")
    refused = AuditEvent.objects.get(seq=3)
    assert refused.action == "audit.key_rotated" and refused.outcome == FAILED
    assert "newest configured key" in refused.details["error"]
    assert chain.verify_chain().ok  # a refused rotation starts no segment


def test_the_rotate_key_command_says_what_it_did_and_refuses_clearly(settings):
    events(1, "x")
    with pytest.raises(CommandError, match="already signs with the newest configured key") as excinfo:
        call_command("audit", "rotate-key", stdout=io.StringIO())
    assert excinfo.value.returncode == 1
    settings.AUDIT_CHAIN_KEYS = {"default": OLD, "k2": K2}
    out = io.StringIO()
    call_command("audit", "rotate-key", "--reason", "scheduled", stdout=out)
    assert "new segment under key id k2 starts at seq 3" in out.getvalue()
    rotation = AuditEvent.objects.get(seq=3)
    assert rotation.reason == "scheduled" and rotation.details["source"] == "command"


def test_adding_a_key_changes_nothing_until_the_rotation(settings):
    settings.AUDIT_CHAIN_KEYS = {"default": OLD, "k2": K2}
    event = events(1, "x")[0]
    assert event.hash == chain.compute_hash(event.prev_hash, chain.event_values(event), key=OLD)
    assert chain.verify_chain().ok


def test_nothing_is_appended_while_the_current_key_is_missing(three_segments, settings):
    settings.AUDIT_CHAIN_KEYS = {"default": OLD, "k2": K2}
    with pytest.raises(keys.ChainKeyMissing, match="key id 'k3'"):
        record("user.view", SUCCEEDED)
    assert AuditEvent.objects.count() == 11
    settings.AUDIT_CHAIN_KEYS = {"default": OLD, "k2": K2, "k4": b"fourth-key-after-k3-was-lost"}
    rotate_key(reason="k3 was lost")
    record("user.view", SUCCEEDED)
    result = chain.verify_chain()
    assert not result.ok and result.first_bad_seq is None  # k3's segment cannot be checked, nothing is broken
    assert [s.key_id for s in result.segments] == ["default", "k2", "k3", "k4"]


def test_a_chain_begun_with_keys_only_opens_its_first_segment_with_a_rotation(settings):
    settings.AUDIT_CHAIN_KEYS = {"a1": b"first-key-of-a-new-deployment"}
    event = record("user.view", SUCCEEDED)
    opening = AuditEvent.objects.get(seq=1)
    assert event.seq == 2
    assert opening.action == "audit.key_rotated" and opening.prev_hash == GENESIS_HASH
    assert opening.details["key_id"] == "a1" and opening.details["previous_key_id"] is None
    result = chain.verify_chain()
    assert result.ok and [(s.number, s.key_id, s.first_seq) for s in result.segments] == [(1, "a1", 1)]


def test_the_event_page_says_when_its_key_is_missing(three_segments, settings):
    settings.AUDIT_CHAIN_KEYS = {"default": OLD, "k3": K3}
    assert chain.event_hash_ok(AuditEvent.objects.get(seq=5)) is None
    assert chain.event_hash_ok(AuditEvent.objects.get(seq=9)) is True
    assert chain.event_hash_ok(AuditEvent.objects.get(seq=2)) is True


# --- configuration ---


def test_keys_are_read_oldest_first_with_the_single_key_as_default():
    assert keys.parse_chain_keys("k2:second, k3:third:with-colon\n", legacy="old") == {
        "default": b"old",
        "k2": b"second",
        "k3": b"third:with-colon",
    }
    assert keys.parse_chain_keys(None, legacy="only") == {"default": b"only"}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("k2", "must read id1:key1"),
        ("bad id:x", "must read id1:key1"),
        ("k2:", "is empty"),
        ("k2:a,k2:b", "appears twice"),
        ("default:x", "AUDIT_CHAIN_KEY's id"),
    ],
)
def test_a_malformed_key_list_is_refused_with_a_clear_message(spec, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        keys.parse_chain_keys(spec, legacy="old")


def test_contact_digests_stay_the_same_across_rotations(settings):
    before = contact_digest("+14155550101")
    rotated = keys.parse_chain_keys("k2:second", legacy=OLD.decode())
    settings.AUDIT_CONTACT_DIGEST_KEY = keys.contact_digest_key(rotated)
    assert contact_digest("+14155550101") == before
    # the old key retired from the chain: AUDIT_CONTACT_DIGEST_KEY keeps the digests
    settings.AUDIT_CONTACT_DIGEST_KEY = keys.contact_digest_key({"k2": K2}, explicit=OLD.decode())
    assert contact_digest("+14155550101") == before


def test_the_pages_say_cannot_be_checked_rather_than_changed(three_segments, settings, auditor_client):
    from django.urls import reverse

    from adminpanel.audit.services import run_verification

    settings.AUDIT_CHAIN_KEYS = {"default": OLD, "k3": K3}
    event = AuditEvent.objects.get(seq=5)
    body = auditor_client.get(reverse("audit:events-detail", args=[event.id])).content.decode()
    assert "cannot be checked — the key of its segment is not configured" in body
    assert "content changed" not in body
    run_verification(source="ui")
    body = auditor_client.get(reverse("audit:events-list")).content.decode()
    assert "Partly checked" in body and "segment 2 (key id k2, seq 4–7) cannot be checked" in body
    assert "Chain broken" not in body


def test_the_keys_can_come_from_a_file_like_the_other_secrets(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    keys_file = tmp_path / "chain-keys"
    keys_file.write_text("k2:second-key\nk3:third-key\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUDIT_", "DJANGO_SETTINGS"))}
    env.update(DJANGO_SETTINGS_MODULE="tests.settings", AUDIT_CHAIN_KEY="old", AUDIT_CHAIN_KEYS_FILE=str(keys_file))
    code = (
        "from django.conf import settings; "
        "print(list(settings.AUDIT_CHAIN_KEYS), settings.AUDIT_CHAIN_KEYS['k3'], settings.AUDIT_CONTACT_DIGEST_KEY)"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['default', 'k2', 'k3'] b'third-key' b'old'"


def test_seeding_refuses_clearly_when_the_current_key_is_not_configured(settings):
    settings.AUDIT_CHAIN_KEYS = {"a1": b"first-key-of-a-new-deployment"}
    with pytest.raises(CommandError, match="current key 'default' is not configured"):
        call_command("audit", "seed", "--count", "5", stdout=io.StringIO(), stderr=io.StringIO())
    assert AuditEvent.objects.count() == 0
