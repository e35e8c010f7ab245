"""Two agents remove a user's last two authenticators at the same moment: exactly one succeeds, every time."""

from __future__ import annotations

import contextlib
import threading

import pytest
from django.db import connection

from adminpanel.authsignal.connection import get_client
from adminpanel.directory import removal
from adminpanel.directory.staff import Staff
from tests.helpers import make_user

TRIALS = 100


def race(emulator, first_agent, second_agent, trial: int) -> tuple[list, int]:
    user_id = f"race-{trial}"
    a, b = make_user(user_id, sms=(f"+1415555{trial:04}", f"+1415556{trial:04}"))
    emulator.set_faults(latency_ms=50)
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def agent(slot: int, staff_user, authenticator_id: str) -> None:
        try:
            barrier.wait()
            results[slot] = removal.remove_authenticator(
                Staff(staff_user), user_id, authenticator_id, reason="compromised", ticket="SEC-1"
            )
        finally:
            connection.close()

    threads = [
        threading.Thread(target=agent, args=(0, first_agent, a.user_authenticator_id)),
        threading.Thread(target=agent, args=(1, second_agent, b.user_authenticator_id)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    emulator.clear_faults()
    return results, len(get_client().get_authenticators(user_id))


@pytest.mark.django_db(transaction=True)
def test_exactly_one_of_two_simultaneous_removals_succeeds(emulator, support_user, security_user, audit_log_flushable):
    for trial in range(TRIALS):
        results, left = race(emulator, support_user, security_user, trial)
        assert left == 1, f"trial {trial}: the user was left with {left} authenticators"
        succeeded = [r for r in results if r.removed]
        refused = [r for r in results if r.problem]
        assert len(succeeded) == 1 and len(refused) == 1, f"trial {trial}: {results}"
        assert refused[0].problem.status == 409
        assert "only way to sign in" in refused[0].problem.message


@pytest.mark.django_db(transaction=True)
def test_without_the_lock_the_same_race_locks_users_out(
    emulator, support_user, security_user, monkeypatch, audit_log_flushable
):
    """Proves the race test above can fail: take the lock out and users end up with nothing."""
    monkeypatch.setattr(removal, "user_lock", lambda user_id: contextlib.nullcontext(removal.HeldLock()))
    lockouts = sum(race(emulator, support_user, security_user, trial)[1] == 0 for trial in range(5))
    assert lockouts >= 1
