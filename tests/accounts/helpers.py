"""Signing staff in from tests: with a password, a TOTP code computed here (RFC 6238), or straight in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.test import Client

from adminpanel.accounts import second_factor

PASSWORD = "correct horse battery staple"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp_code(secret: str, at: float | None = None, period: int = 30) -> str:
    """The six-digit code an authenticator app shows for `secret` (RFC 6238, SHA-1), computed without allauth."""
    counter = int((time.time() if at is None else at) // period)
    digest = hmac.new(base64.b32decode(secret, casefold=True), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def give_totp(user, secret: str = SECRET) -> Authenticator:
    """An authenticator app registered for `user` (as if done on the registration page earlier)."""
    return TOTP.activate(user, secret).instance


def sign_in_password(client: Client, username: str, password: str = PASSWORD, **extra):  # type: ignore[no-untyped-def]
    return client.post("/login/", {"login": username, "password": password}, **extra)


def sign_in_with_second_factor(client: Client, user) -> Client:  # type: ignore[no-untyped-def]
    """force_login plus the session's "second factor passed" mark: what a full sign-in leaves behind."""
    client.force_login(user)
    session = client.session
    session[second_factor.SESSION_KEY] = {"user": str(user.pk), "via": "totp", "at": time.time()}
    session.save()
    return client


def step_up_with_totp(client: Client, user, secret: str = SECRET):  # type: ignore[no-untyped-def]
    """A real step-up: the staff member confirms with an app code on allauth's reauthentication page."""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        give_totp(user, secret)
    response = client.post("/account/reauthenticate/", {"code": totp_code(secret)})
    assert response.status_code == 302, response
    return response
