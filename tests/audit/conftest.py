"""Fixtures for the audit tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def immediate_tasks(settings):
    """Background tasks run inside enqueue(), so a request that queues one sees its result."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
