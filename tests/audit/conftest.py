"""Fixtures for the audit tests: signed-in clients per role, emptying the log after transactional tests."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.audit.helpers import purge_audit_log


@pytest.fixture
def auditor_client(auditor_user) -> Client:
    client = Client()
    client.force_login(auditor_user)
    return client


@pytest.fixture
def support_client(support_user) -> Client:
    client = Client()
    client.force_login(support_user)
    return client


@pytest.fixture
def audit_log_flushable(transactional_db):
    """For transaction=True tests that append events: empty the log before pytest-django flushes."""
    yield
    purge_audit_log()


@pytest.fixture(autouse=True)
def fresh_emulator():
    """Overrides the project fixture: most audit tests never talk to Authsignal; reconcile tests do."""
    try:
        from adminpanel.authsignal import connection

        connection.reset_client()
        emulator = connection.get_emulator()
    except ImportError:  # the emulator is still being written; only the reconcile tests need it
        yield None
        return
    yield emulator
    connection.reset_client()
