"""A Security member with the second factor required: registers a passkey (Chromium's virtual authenticator),
signs out, signs in with password + passkey, is asked again before a lockout override, and the override goes
through with what they typed intact."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from adminpanel.audit.models import AuditEvent
from adminpanel.authsignal.connection import get_client
from tests.e2e.conftest import shot, sign_in
from tests.helpers import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def add_virtual_authenticator(page) -> None:  # type: ignore[no-untyped-def]
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def test_passkey_sign_in_and_step_up_before_a_lockout_override(
    page, security_user, settings, fresh_emulator, audit_log_flushable
):
    settings.STAFF_MFA_REQUIRED = True
    (only,) = make_user("bob", username="bob", sms=("+447700900123",))
    assert page.url == "about:blank" and "localhost" in settings.ALLOWED_HOSTS  # WebAuthn refuses an IP as RP id
    add_virtual_authenticator(page)

    sign_in(page, security_user.username)
    expect(page).to_have_url(re.compile(r"/account/$"))
    expect(page.get_by_text("Register a second factor to continue.")).to_be_visible()
    shot(page, "20-second-factor-required")
    page.goto("/users/")
    expect(page).to_have_url(re.compile(r"/account/$"))  # nothing else opens yet

    page.get_by_role("link", name="Add a passkey").click()
    page.get_by_label("Name").fill("Work laptop")
    shot(page, "21-add-passkey")
    page.get_by_role("button", name="Add passkey").click()
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    expect(page.get_by_label("Your unused recovery codes")).to_be_visible()
    shot(page, "22-recovery-codes")
    page.get_by_role("link", name="Done").click()
    expect(page.get_by_role("cell", name="Work laptop", exact=True)).to_be_visible()
    shot(page, "23-passkey-registered")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login/"))
    sign_in(page, security_user.username)
    expect(page).to_have_url(re.compile(r"/account/authenticate/$"))
    shot(page, "24-sign-in-second-step")
    page.get_by_role("button", name="Use my passkey").click()
    expect(page).to_have_url(re.compile(r"/users/$"))
    shot(page, "25-signed-in-with-passkey")

    page.goto("/users/bob/")
    page.get_by_role("link", name=re.compile("Remove")).click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text("You may override the guard")
    dialog.get_by_label("Reason").fill("Account taken over; customer re-enrols in branch")
    dialog.get_by_label(re.compile("Ticket")).fill("SEC-77")
    dialog.get_by_label(re.compile("Override the lockout guard")).check()
    shot(page, "26-override-filled-in")
    dialog.get_by_role("button", name=re.compile("Remove SMS")).click()

    expect(page).to_have_url(re.compile(r"/account/webauthn/reauthenticate/\?next="))
    expect(page.get_by_role("heading", name="Confirm with your passkey")).to_be_visible()
    shot(page, "27-step-up")
    assert len(get_client().get_authenticators("bob")) == 1  # nothing happened before the check
    # A forged passkey answer is refused: back on the same check, told so, recorded.
    forge = "(v) => { const c = document.querySelector('[name=credential]'); c.value = v; c.form.submit(); }"
    page.evaluate(forge, '{"id": "forged"}')
    shot(page, "27b-forged-passkey-refused")
    expect(page.get_by_text("Incorrect code.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/account/webauthn/reauthenticate/\?next="))
    page.get_by_role("button", name="Use my passkey").click()

    expect(page).to_have_url(re.compile(rf"/users/bob/authenticators/{only.user_authenticator_id}/remove/$"))
    expect(page.get_by_label("Reason")).to_have_value("Account taken over; customer re-enrols in branch")
    expect(page.get_by_label(re.compile("Ticket"))).to_have_value("SEC-77")
    expect(page.get_by_label(re.compile("Override the lockout guard"))).to_be_checked()
    shot(page, "28-back-on-the-dialog-intact")
    page.get_by_role("button", name=re.compile("Remove SMS")).click()

    expect(page).to_have_url(re.compile(r"/users/bob/$"))
    expect(page.get_by_text("Lockout guard overridden")).to_be_visible()
    shot(page, "29-overridden-after-step-up")
    assert get_client().get_authenticators("bob") == []
    trail = list(
        AuditEvent.objects.filter(actor_username=security_user.username)
        .exclude(action__in=["user.view", "user.search"])
        .order_by("seq")
        .values_list("action", "outcome")
    )
    assert trail[:3] == [
        ("staff.login", "succeeded"),
        ("staff.second_factor.add", "succeeded"),
        ("staff.second_factor.add", "succeeded"),  # the recovery codes that came with it
    ]
    assert ("staff.second_factor.use", "succeeded") in trail
    asked, refused = trail.index(("staff.step_up", "denied")), trail.index(("staff.step_up", "failed"))
    assert asked < refused < trail.index(("staff.step_up", "succeeded"))
    assert ("lockout.override", "succeeded") in trail
    assert not page.console_errors
