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

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from adminpanel.directory.models import UserLease

WAIT_SECONDS = 5.0
_POLL = 0.02


class LockBusy(Exception):
    """Someone else is changing this user's authenticators right now."""


class HeldLock:
    """Handed to the holder; `still_held()` renews a lease (and says whether it was lost) before a change."""

    def __init__(self, key: str | None = None, owner: str | None = None) -> None:
        self._key, self._owner = key, owner

    def still_held(self) -> bool:
        if self._key is None:  # an advisory lock lives as long as the session that holds it
            return True
        renewed = UserLease.objects.filter(key=self._key, owner=self._owner).update(
            expires_at=timezone.now() + timedelta(seconds=lease_seconds())
        )
        return renewed == 1


def purge_expired_leases() -> int:
    """Lease rows of holders that crashed (a live holder renews its lease): run by `manage.py cleanup`."""
    deleted, _ = UserLease.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


def lease_seconds() -> float:
    """Longer than the slowest fetch + delete the client can make (timeouts and retry waits included)."""
    attempts = settings.AUTHSIGNAL_RETRY_ATTEMPTS
    one_call = (
        attempts * (settings.AUTHSIGNAL_CONNECT_TIMEOUT + settings.AUTHSIGNAL_READ_TIMEOUT)
        + (attempts - 1) * settings.AUTHSIGNAL_RETRY_MAX_WAIT
    )
    return 3 * one_call + 30


def _lock_key(user_id: str) -> int:
    digest = hashlib.blake2b(f"authsignal-user:{user_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def user_lock(user_id: str, wait: float = WAIT_SECONDS) -> Iterator[HeldLock]:
    if connection.vendor == "postgresql":
        with _advisory_lock(_lock_key(user_id), wait):
            yield HeldLock()
    else:
        with _lease(hashlib.sha256(user_id.encode()).hexdigest(), wait) as held:
            yield held


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
def _lease(key: str, wait: float) -> Iterator[HeldLock]:
    owner = uuid.uuid4().hex
    deadline = time.monotonic() + wait
    while True:
        now = timezone.now()
        try:
            with transaction.atomic():
                UserLease.objects.filter(key=key, expires_at__lt=now).delete()  # a crashed holder's lease
                UserLease.objects.create(key=key, owner=owner, expires_at=now + timedelta(seconds=lease_seconds()))
            break
        except IntegrityError:
            if time.monotonic() >= deadline:
                raise LockBusy from None
            time.sleep(_POLL)
    try:
        yield HeldLock(key, owner)
    finally:
        UserLease.objects.filter(key=key, owner=owner).delete()
