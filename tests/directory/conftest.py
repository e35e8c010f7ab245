"""Fixtures for the support desk tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def emulator(fresh_emulator):
    return fresh_emulator
