"""`audit verify --file`: an export re-checked with the key and no database, line and seq of the first bad row."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from adminpanel.audit import exports
from adminpanel.audit.models import AuditEvent
from adminpanel.audit.offline import verify_file
from adminpanel.audit.services import FAILED, SUCCEEDED, record, rotate_key
from tests.helpers import purge_audit_log, tamper

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
KEY = b"test-audit-chain-key"
K2 = b"second-key-0123456789"
HOSTILE = ["=1+1", "'quoted", 'line1\r\nline2, "x"', "tab\tin", "☃ snow", "@SUM(A1)", "-3", "plain"]


@pytest.fixture
def log(support_user) -> list[AuditEvent]:
    purge_audit_log()  # creating the staff account was recorded: start the chain at seq 1 for readable numbers
    return [
        record(
            ("user.view", "authenticator.remove")[i % 2],
            (SUCCEEDED, FAILED)[i % 3 == 0],
            actor=support_user if i % 2 else None,
            user_id=f"u{i}",
            reason=f"{HOSTILE[i % len(HOSTILE)]} {i}",
            details={"n": i, "nested": {"ratio": i / 7, "list": [None, True, "=x"]}},
        )
        for i in range(24)
    ]


def write_export(tmp_path: Path, fmt: str, qs=None, name: str = "export") -> Path:
    path = tmp_path / f"{name}.{fmt}"
    qs = AuditEvent.objects.all() if qs is None else qs
    path.write_bytes(b"".join(exports.stream(fmt, qs, up_to_seq=10**9)))
    return path


def verify(*args: str) -> str:
    out = io.StringIO()
    call_command("audit", "verify", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_whole_export_verifies_every_hash_and_every_link(log, tmp_path, fmt):
    path = write_export(tmp_path, fmt)
    out = verify("--file", str(path))
    assert out.startswith(f"OK: {path}: 24 events (seq 1–24), every hash matches; all 23 links checked")
    assert AuditEvent.objects.count() == 24  # offline: nothing recorded


def edit_one_byte(path: Path, needle: bytes) -> None:
    data = path.read_bytes()
    at = data.index(needle)
    path.write_bytes(data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :])


def line_of(path: Path, needle: bytes) -> int:
    data = path.read_bytes()
    return data[: data.index(needle)].count(b"\n") + 1


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_one_edited_byte_names_its_line_and_seq(log, tmp_path, fmt):
    path = write_export(tmp_path, fmt)
    line = line_of(path, b"plain 15")
    edit_one_byte(path, b"plain 15")  # "plain 15" -> "qlain 15"
    with pytest.raises(CommandError) as excinfo:
        verify("--file", str(path))
    assert excinfo.value.returncode == 1
    assert str(excinfo.value).startswith(
        f"BROKEN at line {line} (seq 16): event #16 does not match its hash: its content was changed"
    )
    if fmt == "csv":  # rows holding a line break take two physical lines: the count follows the file
        assert line > 16 + 1


def test_an_edited_neutralisation_apostrophe_is_found(log, tmp_path):
    path = write_export(tmp_path, "csv")
    data = path.read_bytes()
    path.write_bytes(data.replace(b",'=1+1 0,", b",=1+1 0,", 1))  # the formula armed again
    result = verify_file(path)
    assert result.broken and result.first_bad_line == 2
    assert "has a reason cell starting with '=' and no apostrophe: edited" in result.message


def test_a_removed_line_breaks_the_link_of_the_next_one(log, tmp_path):
    path = write_export(tmp_path, "jsonl")
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:9] + lines[10:]))
    result = verify_file(path)  # a missing line looks like a filtered export…
    assert result.ok and (result.links_checked, result.links_possible) == (21, 22)
    with pytest.raises(CommandError) as excinfo:  # …unless the export is said to be whole
        verify("--file", str(path), "--complete")
    assert str(excinfo.value).startswith(
        "BROKEN at line 10 (seq 11): event #10 is missing before this line: deleted (or the export was filtered)"
    )


def test_a_filtered_export_checks_every_hash_and_the_links_it_can(log, tmp_path):
    path = write_export(tmp_path, "csv", AuditEvent.objects.filter(seq__in=[2, 3, 4, 9, 10, 20]))
    result = verify_file(path)
    assert result.ok, result.summary()
    assert (result.hashes_checked, result.links_checked, result.links_possible) == (6, 3, 5)
    assert "3 of 5 links could be checked (the others span events that are not in this file" in result.summary()
    edit_one_byte(path, b"u9,")  # seq 10's user id; seq 3's reason holds a line break, so seq 10 is on line 7
    result = verify_file(path)
    assert (result.first_bad_line, result.first_bad_seq) == (7, 10)


def test_an_export_of_a_tampered_database_names_the_changed_event(log, tmp_path):
    tamper("UPDATE audit_auditevent SET reason = 'rewritten' WHERE seq = 7")
    result = verify_file(write_export(tmp_path, "jsonl"))
    assert (result.first_bad_line, result.first_bad_seq) == (7, 7)


@pytest.fixture
def rotated(settings, log) -> None:
    settings.AUDIT_CHAIN_KEYS = {"default": KEY, "k2": K2}
    rotate_key(reason="yearly")
    for i in range(5):
        record("user.view", SUCCEEDED, user_id=f"after-{i}")


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_across_a_rotation_verifies_under_each_key(rotated, tmp_path, fmt):
    result = verify_file(write_export(tmp_path, fmt))
    assert result.ok, result.summary()
    assert result.hashes_checked == 30


def test_a_segment_whose_key_is_missing_is_reported_not_as_tampering(rotated, tmp_path, settings):
    path = write_export(tmp_path, "jsonl")
    settings.AUDIT_CHAIN_KEYS = {"default": KEY}
    with pytest.raises(CommandError) as excinfo:
        verify("--file", str(path))
    assert excinfo.value.returncode == 3
    assert str(excinfo.value).startswith(
        "INCOMPLETE: segment 2 (key id k2) cannot be checked: its key is not configured (6 events, seq 25–30)"
    )


def test_a_filtered_export_picks_each_event_key_from_its_key_id_column(rotated, tmp_path):
    picked = AuditEvent.objects.filter(user_id__in=["u0", "u2", "after-1", "after-3"])  # gaps, no rotation event
    path = write_export(tmp_path, "jsonl", picked)
    result = verify_file(path)
    assert result.ok, result.summary()
    data = path.read_bytes()
    at = data.rindex(b'"key_id":"k2"')
    path.write_bytes(data[:at] + data[at:].replace(b'"key_id":"k2"', b'"key_id":"default"'))
    result = verify_file(path)
    assert result.broken and (result.first_bad_line, result.first_bad_seq) == (4, 29)
    assert "claims the older key default after k2 signed earlier events" in result.message


def test_the_checkpoint_segments_pin_the_key_of_a_filtered_export(rotated, tmp_path):
    from adminpanel.audit.services import chain_checkpoint

    checkpoint = chain_checkpoint()
    assert checkpoint["segments"] == [[1, "default"], [25, "k2"]]
    path = write_export(tmp_path, "jsonl", AuditEvent.objects.filter(user_id__startswith="after-"))
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"key_id":"k2"', b'"key_id":"zz"'))
    result = verify_file(path, checkpoint=checkpoint)
    assert result.broken and "key_id column says 'zz' but the chain says 'k2'" in result.message


def test_a_checkpoint_catches_an_export_whose_tail_was_rewritten(log, tmp_path):
    from adminpanel.audit.services import chain_checkpoint

    checkpoint = chain_checkpoint()
    path = write_export(tmp_path, "jsonl")
    assert "event #24 matches the checkpoint" in verify_file(path, checkpoint=checkpoint).summary()
    result = verify_file(path, checkpoint={**checkpoint, "hash": "f" * 64})
    assert result.broken and "differs from the checkpoint" in result.message


def test_a_file_that_is_not_an_export_is_refused_with_exit_2(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(CommandError, match="not this product's CSV header") as excinfo:
        verify("--file", str(path))
    assert excinfo.value.returncode == 2


def test_a_garbled_line_is_named(log, tmp_path):
    path = write_export(tmp_path, "jsonl")
    lines = path.read_bytes().splitlines(keepends=True)
    lines[4] = lines[4][:40] + b"\n"
    path.write_bytes(b"".join(lines))
    result = verify_file(path)
    assert result.first_bad_line == 5 and "not valid JSON" in result.message


def test_it_runs_with_no_database_configured_at_all(log, tmp_path):
    exported = {fmt: write_export(tmp_path, fmt) for fmt in ("csv", "jsonl")}
    edit_one_byte(exported["csv"], b"plain 7")
    settings_dir = tmp_path / "nodb"
    settings_dir.mkdir()
    (settings_dir / "nodb_settings.py").write_text("from adminpanel.settings import *  # noqa\nDATABASES = {}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AUDIT_", "DATABASE_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="nodb_settings",
        PYTHONPATH=f"{settings_dir}{os.pathsep}{ROOT}",
        DJANGO_SECRET_KEY="offline-" + "x" * 50,
        AUDIT_CHAIN_KEY=KEY.decode(),
        APP_VAR_DIR=str(tmp_path / "var"),
    )

    def run(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", "audit", "verify", "--file", str(path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    good, bad = run(exported["jsonl"]), run(exported["csv"])
    assert good.returncode == 0, good.stderr
    assert "every hash matches; all 23 links checked" in good.stdout
    assert bad.returncode == 1 and "(seq 8): event #8 does not match its hash" in bad.stderr
