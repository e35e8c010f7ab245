"""Every page and dialog state passes axe-core (injected with page.evaluate, so our CSP stays on), fits a 390 px
phone without sideways scrolling, and puts keyboard focus where the change is after every htmx swap."""

from __future__ import annotations

import re
from functools import cache

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from adminpanel.audit.services import SUCCEEDED, record
from tests.e2e.conftest import shot, sign_in
from tests.helpers import make_user
from tests.npmtools import PINS, npm_package

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@cache
def axe_source() -> str:
    return (npm_package("axe-core", PINS["axe-core"]) / "axe.min.js").read_text()


def assert_accessible(page: Page, state: str) -> None:
    """axe-core on the page as it is now; any violation fails with what and where."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source() + "\n;0")
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
        for v in result["violations"]
    ]
    assert not problems, f"{state}:\n" + "\n".join(problems)


def assert_fits_a_phone(page: Page, state: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{state}: the page is {width}px wide"


@pytest.fixture
def desk(fresh_emulator):
    make_user("alice@example.com", email="alice@example.com", username="alice", sms=("+14155550101",),
              passkeys=("iPhone",))  # fmt: skip
    make_user("bob", username="bob", sms=("+447700900123",))
    record("authenticator.enroll", SUCCEEDED, user_id="bob", reason="seeded")


def check(page: Page, state: str) -> None:
    assert_accessible(page, state)
    if page.viewport_size["width"] <= 400:
        assert_fits_a_phone(page, state)


@pytest.mark.parametrize("width", [1280, 390])
def test_support_pages_and_dialogs_have_no_accessibility_violations(
    page, security_user, desk, audit_log_flushable, width
):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/login/")
    check(page, "sign-in")
    sign_in(page, security_user.username)
    page.goto("/users/")
    check(page, "search (empty)")
    page.get_by_label("Email, phone number, username or user id").fill("+44 7700 900123")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("This number looks unusual")).to_be_visible()
    check(page, "search (results, unusual number)")
    page.goto("/users/?q=nobody-at-all")
    check(page, "search (no match)")

    page.goto(reverse("users:detail", args=["alice@example.com"]))
    check(page, "user page")
    page.get_by_role("button", name="Reveal email").click()
    expect(page.get_by_role("button", name="Hide email")).to_be_visible()
    check(page, "user page (email revealed)")
    page.get_by_role("button", name="Hide email").click()
    expect(page.get_by_role("button", name="Reveal email")).to_be_focused()

    page.get_by_role("link", name="Enroll a verified method…").click()
    expect(page.get_by_role("heading", name="Add Email code")).to_be_focused()
    check(page, "enroll panel")
    page.get_by_role("button", name="Add Email code").click()  # nothing filled in: 422
    expect(page.get_by_label("Email address")).to_be_focused()  # focus on the first invalid field
    check(page, "enroll panel (errors)")
    page.get_by_label("Passkey").check()
    expect(page.get_by_role("heading", name="Add Passkey")).to_be_visible()
    check(page, "enroll panel (passkey)")
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("link", name="Enroll a verified method…")).to_be_focused()

    remove = page.locator("#authenticators").get_by_role("link", name=re.compile("Remove SMS"))
    remove.click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_contain_text("What will remain")
    check(page, "remove dialog")
    dialog.get_by_role("button", name=re.compile("^Remove")).click()  # no reason: 422, the dialog again
    expect(dialog.get_by_label("Reason")).to_be_focused()
    check(page, "remove dialog (errors)")
    page.keyboard.press("Escape")
    expect(page.locator("dialog[open]")).to_have_count(0)
    expect(remove).to_be_focused()  # back to the opener, also after a failed submit

    page.goto(reverse("users:detail", args=["bob"]))
    page.get_by_role("link", name=re.compile("Remove SMS")).click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("Reason").fill("SIM swap reported")
    dialog.get_by_role("button", name=re.compile("^Remove")).click()  # no override tick: 409, form kept
    expect(dialog).to_contain_text("only way to sign in")
    expect(dialog.get_by_label("Reason")).to_have_value("SIM swap reported")
    check(page, "remove dialog (lockout refusal, override offered)")
    page.keyboard.press("Escape")

    page.goto(reverse("users:remove", args=["bob", "no-such-authenticator"]))
    check(page, "remove page without JavaScript's dialog (not found)")
    page.goto(reverse("users:detail", args=["nobody-here"]))
    check(page, "user not found")
    page.goto("/users/evil%00id/")
    check(page, "unusable user id")
    shot(page, f"a11y-last-{width}")


@pytest.mark.parametrize("width", [1280, 390])
def test_audit_pages_have_no_accessibility_violations(page, auditor_user, audit_log_flushable, width):
    page.set_viewport_size({"width": width, "height": 900})
    for i in range(3):
        record("user.view", SUCCEEDED, user_id=f"user-{i}", reason=f"look {i}", details={"n": i, "long": "x" * 400})
    sign_in(page, auditor_user.username)
    page.goto("/audit/")
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    check(page, "audit list")
    page.get_by_label("From (UTC)").fill("2026-02-02")
    page.get_by_label("To (UTC)").fill("2026-02-01")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No events shown: the filter needs fixing.")).to_be_visible()
    check(page, "audit list (filter errors)")
    assert "actor=" not in page.url  # no empty parameters in a URL pasted into a ticket
    page.goto("/audit/")
    page.locator("table a").first.click()
    expect(page.get_by_role("heading", name=re.compile("Event #"))).to_be_visible()
    check(page, "audit event")
    page.goto("/users/")  # an auditor may not: the refusal page
    check(page, "not allowed")
    page.goto("/account/")
    check(page, "second factors")


def test_slash_reaches_the_search_from_any_page_and_back_keeps_the_query(page, support_user, desk,
                                                                          audit_log_flushable):  # fmt: skip
    sign_in(page, support_user.username)
    page.goto(reverse("users:detail", args=["bob"]))
    page.keyboard.press("/")
    expect(page.get_by_label("Email, phone number, username or user id")).to_be_focused()
    box = page.get_by_label("Email, phone number, username or user id")
    box.fill("bob")
    expect(page.get_by_role("link", name="bob")).to_be_visible()
    page.get_by_role("link", name="bob").click()
    expect(page.get_by_role("heading", name="bob")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("link", name="bob")).to_be_visible()
    expect(box).to_have_value("bob")
    assert not page.console_errors
