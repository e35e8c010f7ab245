"""The support desk in a real browser: search → detail → enroll SMS → remove with confirmation → audit entries."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from playwright.sync_api import expect

from adminpanel.authsignal.connection import get_client
from tests.e2e.conftest import shot, sign_in
from tests.helpers import SECRET, give_totp, make_user, totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_search_enroll_remove_and_see_the_audit_trail(page, security_user, fresh_emulator, audit_log_flushable):
    make_user(
        "alice@example.com",
        email="alice@example.com",
        username="alice",
        emails=("alice@example.com",),
        passkeys=("iPhone",),
    )
    sign_in(page, security_user.username)
    expect(page).to_have_url(re.compile(r"/users/$"))
    expect(page.get_by_text("Emulator")).to_be_visible()
    shot(page, "01-search-empty")

    page.get_by_role("heading", name="Find a user").click()  # move focus away from the box
    page.keyboard.press("/")
    expect(page.get_by_label("Email, phone number, username or user id")).to_be_focused()
    page.keyboard.type("alice@example.com")
    result = page.get_by_role("link", name="a***e@e***e.com")  # the user id is an email: masked like one
    expect(result).to_be_visible()  # live search, no Enter needed
    shot(page, "02-search-results")
    result.click()

    expect(page.get_by_role("heading", name="alice")).to_be_visible()
    expect(page.get_by_text("iPhone").first).to_be_visible()
    shot(page, "03-user-detail")

    page.get_by_role("link", name="Enroll a verified method…").click()
    expect(page.get_by_role("heading", name="Add Email code")).to_be_focused()  # focus moves into the panel
    page.get_by_label("Reason").fill("Customer has a new phone; verified by call-back")
    page.get_by_label("SMS", exact=True).check()  # switching method keeps the reason typed so far
    expect(page.get_by_role("heading", name="Add SMS")).to_be_visible()
    expect(page.get_by_label("Reason")).to_have_value("Customer has a new phone; verified by call-back")
    page.get_by_label("Mobile number").fill("(415) 555-0142")
    page.get_by_label("I confirm this contact was verified in our own system").check()
    page.get_by_label("Ticket").fill("SUP-42")
    shot(page, "04-enroll-form")
    page.get_by_role("button", name="Add SMS").click()
    expect(page.get_by_text("Added SMS +1 ••• ••• 0142.")).to_be_visible()
    new_row = page.locator("tr.is-new")
    expect(new_row).to_contain_text("SMS")
    expect(page.get_by_role("heading", name=re.compile("^Authenticators"))).to_be_focused()
    staff_actions = page.locator("#staff-actions")
    expect(staff_actions).to_contain_text("authenticator.enroll")  # without a reload: every section agrees
    shot(page, "05-enrolled")

    new_row.get_by_role("link", name=re.compile("Remove")).click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text("Remove SMS +1 ••• ••• 0142?")
    expect(dialog).to_contain_text("What will remain (2)")
    dialog.get_by_label("Reason").fill("Agent test: number entered by mistake")
    shot(page, "06-remove-dialog")
    dialog.get_by_role("button", name=re.compile("Remove SMS")).click()
    expect(page.get_by_text("Removed SMS +1 ••• ••• 0142.")).to_be_visible()
    expect(page.locator("dialog[open]")).to_have_count(0)
    expect(page.locator("#authenticators tbody tr")).to_have_count(2)
    expect(staff_actions).to_contain_text("authenticator.remove")
    expect(page.get_by_role("heading", name=re.compile("^Authenticators"))).to_be_focused()
    shot(page, "06b-removed")
    assert all(a.phone_number != "+14155550142" for a in get_client().get_authenticators("alice@example.com"))

    page.reload()
    audit = page.locator("section", has=page.get_by_role("heading", name="Recent staff actions on this user"))
    expect(audit).to_contain_text("authenticator.remove")
    expect(audit).to_contain_text("authenticator.enroll")
    shot(page, "07-user-audit-trail")

    page.get_by_role("link", name="Audit", exact=True).click()
    expect(page.locator("body")).to_contain_text("authenticator.remove")
    shot(page, "08-audit-log")
    assert not page.console_errors


def test_the_lockout_guard_refuses_in_the_browser(page, support_user, fresh_emulator, audit_log_flushable):
    make_user("bob", username="bob", sms=("+447700900123",))
    sign_in(page, support_user.username)
    page.goto("/users/bob/")
    page.get_by_role("link", name=re.compile("Remove")).click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text("this is the user's only authenticator")
    expect(dialog).to_contain_text("Removal will be refused")
    shot(page, "09-lockout-refused")
    page.keyboard.press("Escape")
    expect(page.locator("dialog[open]")).to_have_count(0)
    assert len(get_client().get_authenticators("bob")) == 1
    assert not page.console_errors


def test_security_overrides_the_lockout_after_being_asked_for_a_ticket(
    page, security_user, fresh_emulator, audit_log_flushable
):
    make_user("bob", username="bob", sms=("+447700900123",))
    give_totp(security_user)
    recovery_codes = RecoveryCodes.activate(security_user).generate_codes()
    sign_in(page, security_user.username)
    page.get_by_label(re.compile("Code from your authenticator app")).fill(totp_code(SECRET))
    page.get_by_role("button", name="Continue").click()
    page.goto("/users/bob/")
    page.get_by_role("link", name=re.compile("Remove")).click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text("You may override the guard")
    dialog.get_by_label("Reason").fill("Account taken over; customer re-enrols in branch")
    dialog.get_by_label(re.compile("Override the lockout guard")).check()
    dialog.get_by_role("button", name=re.compile("Remove SMS")).click()
    # An override needs a fresh second factor (the app code was used at sign-in: a recovery code here).
    page.get_by_label("Code").fill(recovery_codes[0])
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_label(re.compile("Override the lockout guard"))).to_be_checked()
    page.get_by_role("button", name=re.compile("Remove SMS")).click()
    expect(page.get_by_text("An override needs a reason and a ticket.")).to_be_visible()
    page.get_by_label(re.compile("Ticket")).fill("SEC-77")
    page.get_by_label(re.compile("Override the lockout guard")).check()
    shot(page, "13-override-with-ticket")
    page.get_by_role("button", name=re.compile("Remove SMS")).click()
    expect(page.get_by_text("Lockout guard overridden")).to_be_visible()
    expect(page.get_by_text("No authenticators.")).to_be_visible()
    shot(page, "14-overridden")
    assert get_client().get_authenticators("bob") == []
    assert not page.console_errors
