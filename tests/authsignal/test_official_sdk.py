"""Authsignal's own Python SDK, unchanged, against the emulator served over HTTP: the wire contract in practice."""

from __future__ import annotations

import base64

import pytest
from authsignal.client import ApiException, AuthsignalClient

from adminpanel.authsignal.emulator import EmulatorApp, EmulatorStore
from adminpanel.authsignal.emulator.server import running_server

KEY = "sk_test_official_sdk"


@pytest.fixture
def sdk():
    app = EmulatorApp(EmulatorStore(":memory:"), KEY)
    with running_server(app) as server:
        yield AuthsignalClient(api_secret_key=KEY, api_url=server.base_url, timeout=5)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_the_sdk_reads_an_unknown_user_as_not_enrolled(sdk):
    assert sdk.get_user("nobody-here") == {"is_enrolled": False}


def test_the_sdk_round_trips_users_and_authenticators(sdk):
    user_id = "123:test"
    updated = sdk.update_user(user_id, {"email": "sdk@example.com", "displayName": "SDK User"})
    assert updated["user_id"] == user_id and updated["email"] == "sdk@example.com"

    sms = sdk.enroll_verified_authenticator(user_id, {"verificationMethod": "SMS", "phoneNumber": "+14155550100"})
    passkey = sdk.enroll_verified_authenticator(
        user_id,
        {"verificationMethod": "PASSKEY", "credentialId": b64url(b"id-1"), "credentialPublicKey": b64url(b"\x04k")},
    )
    assert sms["authenticator"]["verification_method"] == "SMS"
    assert passkey["authenticator"]["webauthn_credential"]["credential_id"] == b64url(b"id-1")

    listed = sdk.get_authenticators(user_id)
    assert isinstance(listed, list) and len(listed) == 2
    assert {a["user_authenticator_id"] for a in listed} == {
        sms["authenticator"]["user_authenticator_id"],
        passkey["authenticator"]["user_authenticator_id"],
    }
    user = sdk.get_user(user_id)
    assert user["is_enrolled"] is True and set(user["enrolled_verification_methods"]) == {"SMS", "PASSKEY"}

    assert sdk.delete_authenticator(user_id, sms["authenticator"]["user_authenticator_id"]) is None
    assert len(sdk.get_authenticators(user_id)) == 1
    sdk.delete_user(user_id)
    assert sdk.get_user(user_id) == {"is_enrolled": False}


def test_the_sdk_sees_authsignal_errors_with_their_codes(sdk):
    with pytest.raises(ApiException) as bad:
        sdk.enroll_verified_authenticator("u", {"verificationMethod": "SMS", "phoneNumber": "not a number"})
    assert bad.value.status_code == 400 and bad.value.error_code == "invalid_request"

    with pytest.raises(ApiException) as missing:
        sdk.delete_authenticator("u", "00000000-0000-4000-8000-000000000000")
    assert missing.value.status_code == 404 and missing.value.error_code == "not_found"


def test_a_wrong_key_gets_the_documented_401(sdk):
    wrong = AuthsignalClient(api_secret_key="sk_wrong", api_url=sdk.api_url)
    with pytest.raises(ApiException) as denied:
        wrong.get_user("u")
    assert denied.value.status_code == 401
    assert denied.value.error_code == "unauthorized"
    assert denied.value.error_description == (
        "The request is unauthorized. Check that your API key and region base URL are correctly configured."
    )
