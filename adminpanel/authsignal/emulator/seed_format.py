"""The emulator's seed format (POST /_emulator/seed {"users": [...]}, app.seed(users)): users with their
authenticators and actions, loaded idempotently into the store."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

from .api import PROFILE_FIELDS
from .authenticators import (
    SECURITY_KEY_AAGUIDS,
    UNKNOWN_AAGUID,
    contact_of,
    encode_base64url,
    provider_name,
    webauthn_credential,
)
from .store import EmulatorStore, StoredUser
from .wire import format_timestamp, invalid_request, parse_timestamp


def load_users(store: EmulatorStore, users: Any, *, now: datetime) -> int:
    """Upsert seed users with their authenticators and actions; answers how many users were given.

    Each user: ``userId`` plus any profile field, optional ``createdAt``, ``authenticators`` and ``actions``.
    An authenticator is ``{"verificationMethod": ..., "email"/"phoneNumber"/...}``; any method is accepted so
    tests can seed kinds the API cannot enroll. Passkeys take ``name``, ``aaguid``, ``credentialId`` or a
    whole ``webauthnCredential``. Missing ids are derived from the user id and the entry's position, so
    seeding the same list twice changes nothing; an entry whose contact the user already has is skipped.
    """
    if not isinstance(users, list):
        raise invalid_request("users must be a list.")
    stamp = format_timestamp(now)
    with store.atomic():
        for raw in users:
            _load_user(store, raw, stamp)
    return len(users)


def _load_user(store: EmulatorStore, raw: Any, stamp: str) -> None:
    if not isinstance(raw, dict) or not isinstance(raw.get("userId"), str) or not raw["userId"]:
        raise invalid_request("Each seeded user needs a non-empty userId string.")
    user_id = raw["userId"]
    existing = store.get_user(user_id)
    profile = dict(existing.profile) if existing else {}
    profile.update({key: raw[key] for key in PROFILE_FIELDS if raw.get(key) is not None})
    created_at = _timestamp(raw.get("createdAt")) or (existing.created_at if existing else stamp)
    store.save_user(StoredUser(user_id, created_at, profile))
    for index, entry in enumerate(_list(raw, "authenticators")):
        item = _authenticator(user_id, entry, stamp, index)
        contact = contact_of(item)
        same = contact and store.find_authenticator(user_id, method=item["verificationMethod"], contact=contact)
        if same and same["userAuthenticatorId"] != item["userAuthenticatorId"]:
            continue  # the user already has this one (enrolled through the API, say)
        store.save_authenticator(item, contact)
    for index, entry in enumerate(_list(raw, "actions")):
        store.save_action(user_id, _action(user_id, entry, stamp, index))


def stable_id(*parts: object) -> str:
    """A UUID v4-shaped id derived from `parts`: the same seed entry gets the same id every time."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _list(raw: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise invalid_request(f"{key} must be a list of objects.")
    return value


def _timestamp(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return format_timestamp(parse_timestamp(str(value)))
    except ValueError:
        raise invalid_request(f"{value!r} is not an ISO 8601 timestamp.") from None


def _authenticator(user_id: str, raw: dict[str, Any], stamp: str, index: int) -> dict[str, Any]:
    method = raw.get("verificationMethod")
    if not isinstance(method, str) or not method:
        raise invalid_request("Each seeded authenticator needs a verificationMethod.")
    created_at = _timestamp(raw.get("createdAt")) or stamp
    item: dict[str, Any] = {
        "userAuthenticatorId": raw.get("userAuthenticatorId") or stable_id(user_id, "authenticator", index, method),
        "userId": user_id,
        "verificationMethod": method,
        "createdAt": created_at,
        "verifiedAt": _timestamp(raw.get("verifiedAt")) or created_at,
    }
    for key in ("email", "phoneNumber", "username", "displayName", "previousSmsChannel"):
        if raw.get(key) is not None:
            item[key] = raw[key]
    if raw.get("lastVerifiedAt"):
        item["lastVerifiedAt"] = _timestamp(raw["lastVerifiedAt"])
    if isinstance(raw.get("webauthnCredential"), dict):
        item["webauthnCredential"] = raw["webauthnCredential"]
    elif method in ("PASSKEY", "SECURITY_KEY"):
        aaguid = raw.get("aaguid") or UNKNOWN_AAGUID
        hardware = aaguid in SECURITY_KEY_AAGUIDS or method == "SECURITY_KEY"
        item["webauthnCredential"] = webauthn_credential(
            credential_id=raw.get("credentialId")
            or encode_base64url(uuid.UUID(stable_id(item["userAuthenticatorId"], "credential")).bytes),
            device_id=raw.get("deviceId") or stable_id(item["userAuthenticatorId"], "device"),
            name=raw.get("name") or provider_name(aaguid) or "Passkey",
            aaguid=aaguid,
            backed_up=raw.get("credentialBackedUp", not hardware),
            device_type=raw.get("credentialDeviceType", "singleDevice" if hardware else "multiDevice"),
            attachment=raw.get("authenticatorAttachment", "cross-platform" if hardware else "platform"),
            user_agent=raw.get("parsedUserAgent"),
        )
    return item


def _action(user_id: str, raw: dict[str, Any], stamp: str, index: int) -> dict[str, Any]:
    created_at = _timestamp(raw.get("createdAt")) or stamp
    return {
        "actionCode": raw.get("actionCode", "signIn"),
        "idempotencyKey": raw.get("idempotencyKey") or stable_id(user_id, "action", index),
        "createdAt": created_at,
        "updatedAt": _timestamp(raw.get("updatedAt")) or created_at,
        "state": raw.get("state", "ALLOW"),
        "stateUpdatedAt": _timestamp(raw.get("stateUpdatedAt")) or created_at,
        "verificationMethod": raw.get("verificationMethod"),
        "verifiedByAuthenticatorId": raw.get("verifiedByAuthenticatorId"),
        "userAgent": raw.get("userAgent"),
        "ipAddress": raw.get("ipAddress"),
        "countryCode": raw.get("countryCode"),
    }
