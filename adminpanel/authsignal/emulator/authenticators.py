"""Authenticator records: enrolment validation per method, the listed JSON shape, passkey credential data."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .wire import invalid_request

VERIFICATION_METHODS = (
    "SMS",
    "EMAIL_OTP",
    "EMAIL_MAGIC_LINK",
    "AUTHENTICATOR_APP",
    "PASSKEY",
    "SECURITY_KEY",
    "PUSH",
    "DEVICE",
    "VERIFF",
    "IPROOV",
    "IDVERSE",
    "PALM_BIOMETRICS_RR",
    "RECOVERY_CODE",
    "WHATSAPP",
)
EMAIL_METHODS = frozenset({"EMAIL_OTP", "EMAIL_MAGIC_LINK"})
PHONE_METHODS = frozenset({"SMS", "WHATSAPP"})
# What POST /users/{id}/authenticators accepts (docs/authsignal-api.md, "Enroll verified authenticator").
ENROLLABLE_METHODS = EMAIL_METHODS | PHONE_METHODS | {"AUTHENTICATOR_APP", "PASSKEY"}

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")

UNKNOWN_AAGUID = "00000000-0000-0000-0000-000000000000"
# Hardware security keys are not in the passkey-provider list; these are Yubico's published AAGUIDs.
SECURITY_KEY_AAGUIDS = {
    "cb69481e-8ff7-4039-93ec-0a2729a154a8": "YubiKey 5 Series",
    "2fc0579f-8113-47ea-b116-bb5a8db9202a": "YubiKey 5 Series with NFC",
}
# The community list now names Apple's provider "Apple Passwords"; users and our demo data know it as
# iCloud Keychain.
PROVIDER_NAME_OVERRIDES = {"fbfc3007-154e-4ecc-8c0b-6e020557d7bd": "iCloud Keychain"}

_ICON_STROKE = {"light": "#1f2933", "dark": "#e4e7eb"}  # light icon for light backgrounds, and vice versa
_ICON_SHAPES = {
    # A key: platform authenticators (phone, laptop, synced passkeys).
    "key": '<circle cx="8" cy="12" r="4"/><path d="M12 12h9M18 12v3M21 12v2"/>',
    # A padlock: password managers.
    "lock": '<rect x="4" y="10" width="16" height="11" rx="2"/><path d="M8 10V7a4 4 0 0 1 8 0v3"/>',
    # A USB stick: hardware security keys.
    "usb": ('<rect x="7" y="2" width="10" height="13" rx="2"/><path d="M9 15v6h6v-6"/><circle cx="12" cy="8" r="2"/>'),
}
_PLATFORM_PROVIDERS = {
    "iCloud Keychain",
    "iCloud Keychain (Managed)",
    "Google Password Manager",
    "Windows Hello",
    "Samsung Pass",
    "Chrome on Mac",
    "Edge on Mac",
    "Chromium Browser",
}


@dataclass(frozen=True)
class Enrollment:
    """A validated enrolment request."""

    method: str
    contact: str  # the value that makes a second enrolment "the same" authenticator
    fields: dict[str, Any]  # email / phoneNumber / credentialId + name
    is_default: bool


def validate_enrollment(body: Any) -> Enrollment:
    """Check the POST body per method; every problem is a 400 invalid_request."""
    if not isinstance(body, dict):
        raise invalid_request("The request body must be a JSON object.")
    method = body.get("verificationMethod")
    if not isinstance(method, str) or not method:
        raise invalid_request("verificationMethod is required.")
    if method not in ENROLLABLE_METHODS:
        raise invalid_request(f"verificationMethod {method} cannot be enrolled with this endpoint.")
    is_default = body.get("isDefault", False)
    if not isinstance(is_default, bool):
        raise invalid_request("isDefault must be true or false.")
    if method in EMAIL_METHODS:
        email = _required_text(body, "email")
        if not EMAIL.match(email):
            raise invalid_request("email is not a valid email address.")
        return Enrollment(method, email.lower(), {"email": email}, is_default)
    if method in PHONE_METHODS:
        phone = _required_text(body, "phoneNumber")
        if not E164.match(phone):
            raise invalid_request("phoneNumber must be in E.164 format, e.g. +14155550101.")
        return Enrollment(method, phone, {"phoneNumber": phone}, is_default)
    if method == "AUTHENTICATOR_APP":
        otp_uri = _required_text(body, "otpUri")
        if not otp_uri.startswith("otpauth://") or len(otp_uri) <= len("otpauth://"):
            raise invalid_request("otpUri must be an otpauth:// URI.")
        # Only a digest is kept: the URI carries the TOTP secret, which the API never lists back.
        return Enrollment(method, hashlib.sha256(otp_uri.encode()).hexdigest(), {}, is_default)
    credential_id = _required_base64url(body, "credentialId")
    _required_base64url(body, "credentialPublicKey")
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise invalid_request("name must be a string.")
    return Enrollment(method, credential_id, {"credentialId": credential_id, "name": name}, is_default)


def _required_text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise invalid_request(f"{key} is required.")
    return value.strip()


def _required_base64url(body: dict[str, Any], key: str) -> str:
    value = _required_text(body, key)
    if not BASE64URL.match(value) or decode_base64url(value) is None:
        raise invalid_request(f"{key} must be base64url.")
    return value


def decode_base64url(value: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None


def encode_base64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def contact_of(item: dict[str, Any]) -> str | None:
    """The identity of a listed authenticator for the idempotent re-enrolment check."""
    method = item.get("verificationMethod")
    if method in EMAIL_METHODS and isinstance(item.get("email"), str):
        return item["email"].lower()
    if method in PHONE_METHODS:
        return item.get("phoneNumber")
    credential = item.get("webauthnCredential")
    if isinstance(credential, dict):
        return credential.get("credentialId")
    return None


def new_item(
    enrollment: Enrollment, *, user_id: str, authenticator_id: str, created_at: str, device_id: str
) -> dict[str, Any]:
    """The authenticator as GET /users/{id}/authenticators lists it."""
    item: dict[str, Any] = {
        "userAuthenticatorId": authenticator_id,
        "userId": user_id,
        "verificationMethod": enrollment.method,
        "createdAt": created_at,
        "verifiedAt": created_at,
    }
    if enrollment.method in EMAIL_METHODS:
        item["email"] = enrollment.fields["email"]
    elif enrollment.method in PHONE_METHODS:
        item["phoneNumber"] = enrollment.fields["phoneNumber"]
    elif enrollment.method == "PASSKEY":
        # Enrolled by the server: no attestation, so no provider (AAGUID) and no browser to describe.
        item["webauthnCredential"] = webauthn_credential(
            credential_id=enrollment.fields["credentialId"],
            device_id=device_id,
            name=enrollment.fields["name"] or "Passkey",
            aaguid=UNKNOWN_AAGUID,
            backed_up=False,
            device_type="singleDevice",
            attachment="platform",
            user_agent=None,
        )
    return item


def webauthn_credential(
    *,
    credential_id: str,
    device_id: str,
    name: str,
    aaguid: str,
    backed_up: bool,
    device_type: str,
    attachment: str,
    user_agent: dict[str, Any] | None,
) -> dict[str, Any]:
    """`webauthnCredential` with every documented field present (lowercase `a`)."""
    return {
        "credentialId": credential_id,
        "deviceId": device_id,
        "name": name,
        "aaguid": aaguid,
        "aaguidMapping": aaguid_mapping(aaguid),
        "credentialBackedUp": backed_up,
        "credentialDeviceType": device_type,
        "authenticatorAttachment": attachment,
        "parsedUserAgent": user_agent or empty_parsed_user_agent(),
    }


def empty_parsed_user_agent() -> dict[str, Any]:
    # The shape ua-parser-js gives, which is what Authsignal returns.
    return {
        "ua": "",
        "browser": {"name": None, "version": None, "major": None},
        "device": {"vendor": None, "model": None, "type": None},
        "engine": {"name": None, "version": None},
        "os": {"name": None, "version": None},
        "cpu": {"architecture": None},
    }


@cache
def passkey_providers() -> dict[str, str]:
    """AAGUID -> provider name, from the community list shipped next to this module."""
    data = json.loads((Path(__file__).with_name("passkey_aaguids.json")).read_text(encoding="utf-8"))
    return {**data, **SECURITY_KEY_AAGUIDS, **PROVIDER_NAME_OVERRIDES}


def provider_name(aaguid: str) -> str | None:
    return passkey_providers().get(aaguid)


def aaguid_mapping(aaguid: str) -> dict[str, str]:
    name = provider_name(aaguid) or "Passkey"
    if aaguid in SECURITY_KEY_AAGUIDS:
        shape = "usb"
    elif name in _PLATFORM_PROVIDERS or aaguid == UNKNOWN_AAGUID:
        shape = "key"
    else:
        shape = "lock"
    return {"name": name, "svgIconLight": icon(shape, "light"), "svgIconDark": icon(shape, "dark")}


@cache
def icon(shape: str, theme: str) -> str:
    """A small neutral line icon of our own, as a data: URI (the dashboard's CSP allows data: images)."""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" '
        f'stroke="{_ICON_STROKE[theme]}" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">'
        f"{_ICON_SHAPES[shape]}</svg>"
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
