"""Enroll a verified authenticator: validation, duplicate refusal before any call, write-ahead audit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.helpers import HTMX, b64url, events, make_user, outcomes

pytestmark = pytest.mark.django_db


def enroll_url(user_id: str) -> str:
    return reverse("users:enroll", args=[user_id])


def post(client, user_id, htmx=False, **data):  # type: ignore[no-untyped-def]
    payload = {"verified": "on", "reason": "Caller verified via KYC", "ticket": "SUP-1", **data}
    return client.post(enroll_url(user_id), payload, headers=HTMX if htmx else {})


def test_the_form_per_method(support_client, emulator):
    for method, field in [("SMS", "phone_number"), ("EMAIL_OTP", "email"), ("PASSKEY", "credential_id")]:
        html = support_client.get(enroll_url("u"), {"method": method}).content.decode()
        assert f'name="{field}"' in html
        assert "I confirm this contact was verified in our own system" in html


def test_enroll_sms_normalises_and_swaps_the_new_row_in(support_client, emulator):
    make_user("u", emails=("u@example.com",))
    response = post(support_client, "u", htmx=True, method="SMS", phone_number="(415) 555-0123")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="authenticators" aria-labelledby="auth-h" hx-swap-oob="true"' in html and "is-new" in html
    assert "Added SMS +1 ••• ••• 0123" in html
    from adminpanel.authsignal.connection import get_client

    phones = [a.phone_number for a in get_client().get_authenticators("u")]
    assert "+14155550123" in phones
    assert outcomes("authenticator.enroll", user_id="u") == ["requested", "succeeded"]
    requested, succeeded = events("authenticator.enroll")
    assert requested.correlation_id == succeeded.correlation_id
    assert requested.reason == "Caller verified via KYC" and requested.ticket == "SUP-1"
    assert "+14155550123" not in str(succeeded.details)
    assert len(succeeded.details["after"]) == 2 and len(succeeded.details["before"]) == 1


def test_plain_post_redirects_with_a_message(support_client, emulator):
    response = post(support_client, "plain", method="EMAIL_MAGIC_LINK", email="New@Example.COM")
    assert response.status_code == 302
    page = support_client.get(response["Location"]).content.decode()
    assert "Added Email magic link N***w@e***e.com" in page


def test_enroll_passkey(support_client, emulator):
    response = post(
        support_client,
        "pk",
        method="PASSKEY",
        credential_id=b64url(b"cred-1"),
        credential_public_key=b64url(b"\x04" + b"k" * 64),
        name="YubiKey 5",
    )
    assert response.status_code == 302
    assert outcomes("authenticator.enroll") == ["requested", "succeeded"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"method": "SMS", "phone_number": "12"}, "it is too short"),
        ({"method": "SMS", "phone_number": "+1 555 0000 000000"}, "too long for +1 (US)"),
        ({"method": "SMS", "phone_number": "<script>"}, "Enter a phone number"),
        ({"method": "EMAIL_OTP", "email": "not-an-email"}, "valid email"),
        ({"method": "PASSKEY", "credential_id": "***", "credential_public_key": "AAAA"}, "base64url"),
        ({"method": "PASSKEY", "credential_id": "A", "credential_public_key": "AAAA"}, "does not decode"),
        ({"method": "SMS", "phone_number": "+14155550123", "verified": ""}, "Tick the box"),
        ({"method": "SMS", "phone_number": "+14155550123", "reason": ""}, "This field is required"),
        ({"method": "SMS", "phone_number": "+14155550123", "reason": "x" * 5000}, "at most 1000"),
        ({"method": "AUTHENTICATOR_APP"}, "Select a valid choice"),
    ],
)
def test_bad_input_keeps_the_form_with_a_message_and_calls_nothing(support_client, emulator, data, message):
    response = post(support_client, "u", htmx=True, **data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert emulator.request_count == 0
    assert not events("authenticator.enroll")


def test_a_contact_the_user_already_has_is_refused_before_any_call(support_client, emulator):
    make_user("dup", sms=("+14155550123",))
    before = emulator.request_count
    response = post(support_client, "dup", htmx=True, method="SMS", phone_number="415-555-0123")
    assert response.status_code == 409
    assert "already has SMS +1 ••• ••• 0123" in response.content.decode()
    assert emulator.request_count == before + 1  # only the lookup, no enroll
    assert outcomes("authenticator.enroll") == ["denied"]


def test_upstream_failure_keeps_the_form_and_audits_failed(support_client, emulator):
    make_user("down", sms=("+14155550100",))
    emulator.set_faults(error_rate=1.0)
    response = post(support_client, "down", htmx=True, method="SMS", phone_number="+14155550123")
    assert response.status_code in (502, 504)
    html = response.content.decode()
    assert "Authsignal" in html and 'name="phone_number"' in html and "Added" not in html
    assert outcomes("authenticator.enroll") == ["failed"]


def test_the_auditor_role_cannot_enroll(auditor_client, emulator):
    response = post(auditor_client, "u", method="SMS", phone_number="+14155550123")
    assert response.status_code == 403
    assert events("access.denied") and emulator.request_count == 0


def test_hostile_text_in_reason_is_stored_verbatim_and_shown_escaped(support_client, emulator):
    reason = '<img src=x onerror=alert(1)> hx-get="/admin/" {{7*7}}\r\nsecond line'
    post(support_client, "h", method="EMAIL_OTP", email="h@example.com", reason=reason)
    assert (
        events("authenticator.enroll")[0].reason == reason.replace("\r\n", "\n")
        or events("authenticator.enroll")[0].reason == reason
    )
    page = support_client.get(reverse("users:detail", args=["h"])).content.decode()
    assert "<img src=x" not in page and "&lt;img src=x" in page and "{{7*7}}" in page


def _lose_the_enroll_answer(monkeypatch, emulator, *, then_down: bool = False) -> None:
    """The enroll reaches Authsignal and is applied, but its answer is lost on the way back."""
    from adminpanel.authsignal.connection import get_client

    client = get_client()
    real_enroll = client.enroll_verified_authenticator

    def enroll_with_lost_answer(*args, **kwargs):  # type: ignore[no-untyped-def]
        emulator.set_faults(reset_rate=1.0, reset_after_apply=True)
        try:
            return real_enroll(*args, **kwargs)
        finally:
            emulator.set_faults(error_rate=1.0) if then_down else emulator.clear_faults()

    monkeypatch.setattr(client, "enroll_verified_authenticator", enroll_with_lost_answer)


def test_a_lost_enroll_answer_is_settled_by_looking_not_by_resending(support_client, emulator, monkeypatch):
    make_user("lost", emails=("lost@example.com",))
    _lose_the_enroll_answer(monkeypatch, emulator)
    response = post(support_client, "lost", htmx=True, method="SMS", phone_number="+14155550123")
    assert response.status_code == 200
    assert "Added SMS" in response.content.decode()
    from adminpanel.authsignal.connection import get_client

    assert [a.phone_number for a in get_client().get_authenticators("lost")].count("+14155550123") == 1
    assert outcomes("authenticator.enroll") == ["requested", "succeeded"]
    assert events("authenticator.enroll")[-1].details["settled_by_lookup"] is True


def test_when_the_outcome_cannot_be_known_the_request_stays_open_for_reconcile(support_client, emulator, monkeypatch):
    make_user("unknown", emails=("unknown@example.com",))
    _lose_the_enroll_answer(monkeypatch, emulator, then_down=True)
    response = post(support_client, "unknown", htmx=True, method="SMS", phone_number="+14155550123")
    assert response.status_code == 504
    html = response.content.decode()
    assert "cannot tell whether the authenticator was added" in html and "Added" not in html
    assert outcomes("authenticator.enroll") == ["requested"]  # `manage.py audit reconcile` settles it
