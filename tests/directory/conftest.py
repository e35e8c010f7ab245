"""Fixtures for the support desk: users made through the public API of the in-process emulator."""

from __future__ import annotations

import base64
import os

import pytest

from adminpanel.audit.models import AuditEvent
from adminpanel.authsignal.connection import get_client


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_user(
    user_id: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    username: str | None = None,
    sms: tuple[str, ...] = (),
    emails: tuple[str, ...] = (),
    passkeys: tuple[str, ...] = (),
) -> list:
    """Creates a user and its authenticators the way an integrator would; returns the authenticators."""
    client = get_client()
    fields = {k: v for k, v in {"email": email, "phone_number": phone, "username": username}.items() if v}
    if fields:
        client.update_user(user_id, **fields)
    for number in sms:
        client.enroll_verified_authenticator(user_id, verification_method="SMS", phone_number=number)
    for address in emails:
        client.enroll_verified_authenticator(user_id, verification_method="EMAIL_OTP", email=address)
    for name in passkeys:
        client.enroll_verified_authenticator(
            user_id,
            verification_method="PASSKEY",
            credential_id=b64url(os.urandom(16)),
            credential_public_key=b64url(os.urandom(65)),
            name=name,
        )
    return client.get_authenticators(user_id)


def events(action: str | None = None, **filters) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    qs = AuditEvent.objects.order_by("seq")
    if action:
        qs = qs.filter(action=action)
    return list(qs.filter(**filters))


def outcomes(action: str, **filters) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.outcome for e in events(action, **filters)]


@pytest.fixture
def emulator(fresh_emulator):
    return fresh_emulator


@pytest.fixture
def support_client(client, support_user):
    client.force_login(support_user)
    return client


@pytest.fixture
def security_client(client, security_user):
    client.force_login(security_user)
    return client


@pytest.fixture
def auditor_client(client, auditor_user):
    client.force_login(auditor_user)
    return client


HTMX = {"HX-Request": "true"}
