"""Fixed audit events for byte-exact export tests: hostile text, nested details, every column filled."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from adminpanel.audit import chain
from adminpanel.audit.models import GENESIS_HASH, AuditEvent

SAMPLES: list[dict[str, Any]] = [
    {
        "actor_id": 7,
        "actor_username": "sam.support",
        "actor_ip": "203.0.113.9",
        "actor_user_agent": 'Mozilla/5.0 "quoted", with comma',
        "request_id": "req-1",
        "action": "authenticator.remove",
        "outcome": "succeeded",
        "user_id": "ærøskøbing:42",
        "authenticator_id": '=HYPERLINK("http://evil")',
        "verification_method": "SMS",
        "reason": 'line1\r\nline2, "quoted" \\ back\tslash \x01 ☃ \U0001f600',
        "ticket": "'already quoted",
        "details": {"b": 1, "aa": [0.5, 1.5e-07, None, True, False], "ä": {"z": "-1", "y": {}}, "": []},
    },
    {
        "actor_id": None,
        "actor_username": "",
        "actor_ip": "",
        "actor_user_agent": "",
        "request_id": "",
        "action": "user.view",
        "outcome": "denied",
        "user_id": "+15551234567",
        "authenticator_id": "-2+3",
        "verification_method": "",
        "reason": "@SUM(A1)",
        "ticket": "\ttab first",
        "details": {},
    },
    {
        "actor_id": 12,
        "actor_username": "ada.auditor",
        "actor_ip": "2001:db8::1",
        "actor_user_agent": "curl/8",
        "request_id": "r3",
        "action": "audit.export",
        "outcome": "failed",
        "user_id": "\rcarriage",
        "authenticator_id": "",
        "verification_method": "PASSKEY",
        "reason": "",
        "ticket": "SUP-9",
        "details": {"error": 'he said "no"\n', "n": 12345678901234567890, "neg": -0.25},
    },
]
START = dt.datetime(2026, 11, 2, 9, 15, 0, 123, tzinfo=dt.UTC)


def insert_samples(key: bytes | None = None) -> list[AuditEvent]:
    """The samples as a chain from genesis, with fixed ids and times (bulk_create: tests only)."""
    events = []
    prev = GENESIS_HASH
    for n, sample in enumerate(SAMPLES, start=1):
        event = AuditEvent(
            id=uuid.UUID(int=n, version=4),
            seq=n,
            created_at=START + dt.timedelta(seconds=n, microseconds=n * 1000),
            correlation_id=uuid.UUID(int=1000 + n, version=4),
            prev_hash=prev,
            **{**sample, "details": chain.clean_json(sample["details"])},
        )
        event.hash = prev = chain.compute_hash(prev, chain.event_values(event), key=key)
        events.append(event)
    AuditEvent.objects.bulk_create(events)
    return events
