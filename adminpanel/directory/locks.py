"""A per-user lock that holds across app servers and workers, for the removal's fetch → check → delete sequence.

PostgreSQL: a session-level advisory lock (dropped by the server if the connection dies), taken with
`pg_try_advisory_lock` in a bounded loop. Other databases (SQLite): a lease row with an expiry, so a crashed holder
cannot block a user for longer than the lease. Neither holds a database transaction open, so the write-ahead audit
rows commit while the lock is held.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from adminpanel.directory.models import UserLease

WAIT_SECONDS = 5.0
LEASE_SECONDS = 60.0
_POLL = 0.02


class LockBusy(Exception):
    """Someone else is changing this user's authenticators right now."""


def _lock_key(user_id: str) -> int:
    digest = hashlib.blake2b(f"authsignal-user:{user_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def user_lock(user_id: str, wait: float = WAIT_SECONDS) -> Iterator[None]:
    if connection.vendor == "postgresql":
        with _advisory_lock(_lock_key(user_id), wait):
            yield
    else:
        with _lease(hashlib.sha256(user_id.encode()).hexdigest(), wait):
            yield


@contextmanager
def _advisory_lock(key: int, wait: float) -> Iterator[None]:
    deadline = time.monotonic() + wait
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            if cursor.fetchone()[0]:
                break
            if time.monotonic() >= deadline:
                raise LockBusy
            time.sleep(_POLL)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


@contextmanager
def _lease(key: str, wait: float) -> Iterator[None]:
    owner = uuid.uuid4().hex
    deadline = time.monotonic() + wait
    while True:
        now = timezone.now()
        try:
            with transaction.atomic():
                UserLease.objects.filter(key=key, expires_at__lt=now).delete()  # a crashed holder's lease
                UserLease.objects.create(key=key, owner=owner, expires_at=now + timedelta(seconds=LEASE_SECONDS))
            break
        except IntegrityError:
            if time.monotonic() >= deadline:
                raise LockBusy from None
            time.sleep(_POLL)
    try:
        yield
    finally:
        UserLease.objects.filter(key=key, owner=owner).delete()
