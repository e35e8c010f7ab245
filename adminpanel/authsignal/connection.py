"""The process-wide Authsignal client, built once from settings: the real API or the in-process emulator."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from django.conf import settings

from adminpanel.authsignal.client import AuthsignalClient

if TYPE_CHECKING:
    from adminpanel.authsignal.emulator import EmulatorApp

__all__ = ["EMULATOR_BASE_URL", "get_client", "get_emulator", "reset_client"]

# Never resolved: requests to it go to the in-process emulator through its WSGI transport.
EMULATOR_BASE_URL = "http://emulator.invalid/v1"

_lock = threading.Lock()
_client: AuthsignalClient | None = None
_emulator: EmulatorApp | None = None


def get_client() -> AuthsignalClient:
    """The shared client (one connection pool per process); built on first use, safely across threads."""
    client = _client
    if client is not None:
        return client
    with _lock:
        if _client is None:
            _build()
        assert _client is not None
        return _client


def get_emulator() -> EmulatorApp | None:
    """The in-process emulator the client talks to, or None when it talks to the real Authsignal."""
    get_client()
    return _emulator


def reset_client() -> None:
    """Close and forget the shared client (and emulator), so the next get_client() reads settings afresh."""
    global _client, _emulator
    with _lock:
        if _client is not None:
            _client.close()
        _client = None
        _emulator = None


def _build() -> None:
    global _client, _emulator
    options: dict[str, Any] = {
        "connect_timeout": settings.AUTHSIGNAL_CONNECT_TIMEOUT,
        "read_timeout": settings.AUTHSIGNAL_READ_TIMEOUT,
        "retry_attempts": settings.AUTHSIGNAL_RETRY_ATTEMPTS,
        "retry_max_wait": settings.AUTHSIGNAL_RETRY_MAX_WAIT,
    }
    if not settings.AUTHSIGNAL_USE_EMULATOR:
        _client = AuthsignalClient(
            base_url=settings.AUTHSIGNAL_API_URL, secret_key=settings.AUTHSIGNAL_SECRET_KEY, **options
        )
        _emulator = None
        return
    # Imported here so a deployment against the real API never loads the emulator.
    from adminpanel.authsignal.emulator import EmulatorApp, EmulatorStore, EmulatorTransport

    emulator = EmulatorApp(EmulatorStore(settings.EMULATOR_STORAGE or ":memory:"), settings.EMULATOR_SECRET_KEY)
    _client = AuthsignalClient(
        base_url=EMULATOR_BASE_URL,
        secret_key=settings.EMULATOR_SECRET_KEY,
        transport=EmulatorTransport(app=emulator),
        **options,
    )
    _emulator = emulator
