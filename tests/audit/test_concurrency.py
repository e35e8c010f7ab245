"""Concurrent writers never fork the chain: seq stays gap-free and verify passes (PostgreSQL and SQLite)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from adminpanel.audit import chain
from adminpanel.audit.models import AuditEvent
from adminpanel.audit.services import SUCCEEDED, record

THREADS = 16
PER_THREAD = 100 if connection.vendor == "postgresql" else 20


def hammer(n: int, errors: list[BaseException], start: threading.Barrier) -> None:
    try:
        start.wait()
        for i in range(n):
            record("user.view", SUCCEEDED, user_id=f"{threading.get_ident()}-{i}")
    except BaseException as exc:  # reported by the test, not lost in the thread
        errors.append(exc)
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_writers_keep_one_linear_chain(audit_log_flushable):
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)
    threads = [threading.Thread(target=hammer, args=(PER_THREAD, errors, start)) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    total = THREADS * PER_THREAD
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, total + 1))
    prev_hashes = AuditEvent.objects.values_list("prev_hash", flat=True)
    assert len(set(prev_hashes)) == total  # no two events claim the same predecessor: no fork
    result = chain.verify_chain()
    assert result.ok, result.message
    assert result.head_seq == total
