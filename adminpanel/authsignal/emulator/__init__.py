"""A standalone Authsignal Server API emulator: WSGI app, SQLite store, faults, in-process transport."""

from __future__ import annotations

from .app import EmulatorApp
from .demo import DEMO_USERS
from .faults import FaultConfig, InjectedHang, InjectedReset, RateLimit, TokenBucket
from .server import EmulatorHTTPServer, running_server
from .store import EmulatorStore
from .transport import EmulatorTransport

__all__ = [
    "DEMO_USERS",
    "EmulatorApp",
    "EmulatorHTTPServer",
    "EmulatorStore",
    "EmulatorTransport",
    "FaultConfig",
    "InjectedHang",
    "InjectedReset",
    "RateLimit",
    "TokenBucket",
    "running_server",
]
