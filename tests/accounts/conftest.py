"""Fixtures for sign-in tests: the second factor required, as in production."""

from __future__ import annotations

import pytest


@pytest.fixture
def mfa_required(settings):
    settings.STAFF_MFA_REQUIRED = True
    return settings


from tests.oidc import oidc_provider  # noqa: E402,F401  (fixture: a local OIDC provider process)
