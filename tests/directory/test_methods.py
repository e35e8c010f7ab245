"""How staff see a method and an authenticator: one name per method, masked contacts, passkey names, unknown ones."""

from __future__ import annotations

from adminpanel.authsignal.types import Authenticator
from adminpanel.directory.methods import ENROLLABLE, authenticator_label, method_icon, method_label


def authenticator(**fields: object) -> Authenticator:
    return Authenticator.from_api(
        {"userAuthenticatorId": "a1", "verificationMethod": "SMS", "createdAt": "2026-01-01T00:00:00.000Z", **fields}
    )


def test_each_kind_of_authenticator_is_labelled_with_its_contact_masked():
    assert authenticator_label(authenticator(phoneNumber="+447700900123")) == "SMS +44 ••• ••• 0123"
    email = authenticator(verificationMethod="EMAIL_OTP", email="a@x.io")
    assert authenticator_label(email) == "Email code a***@x***.io"
    passkey = authenticator(verificationMethod="PASSKEY", webauthnCredential={"credentialId": "c", "name": "iPhone"})
    assert authenticator_label(passkey) == "Passkey 'iPhone'"
    assert authenticator_label(authenticator(verificationMethod="AUTHENTICATOR_APP")) == "Authenticator app"


def test_an_unknown_method_is_shown_by_its_code_with_a_neutral_icon():
    assert method_label("SMART_CARD") == "SMART_CARD"
    assert authenticator_label(authenticator(verificationMethod="SMART_CARD")) == "SMART_CARD"
    assert method_icon("SMART_CARD").endswith("img/methods/other.svg")


def test_the_enroll_panel_uses_the_same_names_as_every_other_page():
    assert {
        "EMAIL_OTP": method_label("EMAIL_OTP"),
        "EMAIL_MAGIC_LINK": method_label("EMAIL_MAGIC_LINK"),
        "SMS": method_label("SMS"),
        "PASSKEY": method_label("PASSKEY"),
    } == ENROLLABLE
    assert ENROLLABLE["EMAIL_OTP"] == "Email code"


def test_a_passkey_name_cannot_hide_its_control_characters():
    passkey = authenticator(verificationMethod="PASSKEY", webauthnCredential={"credentialId": "c", "name": "a\u202eb"})
    assert authenticator_label(passkey) == "Passkey 'a⟨U+202E⟩b'"
