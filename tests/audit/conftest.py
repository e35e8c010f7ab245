"""Fixtures for the audit tests: signed-in clients per role (audit_log_flushable lives in tests/conftest.py)."""

from __future__ import annotations

import pytest
from django.test import Client


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
def immediate_tasks(settings):
    """Background tasks run inside enqueue(), so a request that queues one sees its result."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
