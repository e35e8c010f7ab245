"""After an htmx change the user page never contradicts itself: every section the change affects comes back."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from adminpanel.audit.models import AuditEvent
from adminpanel.authsignal.connection import get_client
from tests.helpers import HTMX, make_user

pytestmark = pytest.mark.django_db


def oob_section(html: str, section_id: str) -> str:
    match = re.search(rf'<section class="card" id="{section_id}"[^>]*hx-swap-oob="true">(.*?)</section>', html, re.S)
    assert match, f"no out-of-band #{section_id} in the answer"
    return match.group(1)


def enroll_sms(client, user_id: str, number: str = "+14155550123"):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("users:enroll", args=[user_id]),
        {"method": "SMS", "phone_number": number, "verified": "on", "reason": "Verified by call-back", "ticket": "S-1"},
        headers=HTMX,
    )


def test_the_first_enrollment_updates_the_profile_and_the_staff_actions_too(support_client, emulator):
    get_client().update_user("dave", email="dave@example.com")
    page = support_client.get(reverse("users:detail", args=["dave"])).content.decode()
    assert "no — this user cannot sign in with Authsignal" in page
    html = enroll_sms(support_client, "dave").content.decode()
    profile = oob_section(html, "profile")
    assert "cannot sign in" not in profile and "<dd>yes</dd>" in profile
    actions = oob_section(html, "staff-actions")
    assert "authenticator.enroll" in actions and "succeeded" in actions
    assert "SMS" in oob_section(html, "authenticators")
    assert "data-focus-now" in html  # focus goes to the updated section's heading


def test_a_removal_updates_every_section_and_the_default_method(support_client, emulator):
    sms, other = make_user("erin", sms=("+14155550102", "+14155550103"))
    page = support_client.get(reverse("users:remove", args=["erin", sms.user_authenticator_id]), headers=HTMX)
    token = re.search(r'name="token" value="([^"]+)"', page.content.decode()).group(1)  # type: ignore[union-attr]
    html = support_client.post(
        reverse("users:remove", args=["erin", sms.user_authenticator_id]),
        {"token": token, "reason": "Old phone"},
        headers=HTMX,
    ).content.decode()
    assert "<dialog" not in html  # the dialog closes
    assert "authenticator.remove" in oob_section(html, "staff-actions")
    assert "(1)" in oob_section(html, "authenticators")
    assert oob_section(html, "profile")


def test_staff_actions_read_one_line_per_action_with_its_final_outcome(support_client, emulator):
    make_user("u", emails=("u@example.com",))
    enroll_sms(support_client, "u")
    page = support_client.get(reverse("users:detail", args=["u"])).content.decode()
    section = page[page.index('id="staff-actions"') :]
    assert section.count(">authenticator.enroll<") == 1
    assert "succeeded" in section and ">requested<" not in section


def test_a_request_left_without_outcome_reads_as_no_outcome_yet(support_client, emulator):
    from adminpanel.audit.services import REQUESTED, record

    make_user("u", emails=("u@example.com",))
    record("authenticator.remove", REQUESTED, user_id="u", authenticator_id="x")
    page = support_client.get(reverse("users:detail", args=["u"])).content.decode()
    assert "no outcome yet" in page


def test_a_reveal_shows_the_value_with_hide_and_says_it_is_recorded(support_client, emulator):
    make_user("alice", email="alice@example.com", sms=("+14155550101",))
    html = support_client.post(reverse("users:reveal", args=["alice"]), {"field": "email"}, headers=HTMX)
    body = html.content.decode()
    assert 'id="contact-email"' in body and "alice@example.com" in body
    assert "Hide email" in body and "the reveal is recorded in the audit log" in body
    assert "<template>" in body and "Reveal email" in body  # what Hide puts back, without a new request
    assert "pii.reveal" in oob_section(body, "staff-actions")
    assert AuditEvent.objects.filter(action="pii.reveal").count() == 1


def test_switching_the_enroll_method_keeps_the_reason_and_ticket(support_client, emulator):
    response = support_client.get(
        reverse("users:enroll", args=["u"]),
        {"method": "PASSKEY", "reason": "Typed before switching", "ticket": "SUP-77", "email": "x@example.com"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert "Typed before switching" in html and 'value="SUP-77"' in html
    assert 'name="credential_id"' in html and 'name="email"' not in html
    assert html.count('type="radio" name="method"') == 4  # one picker, the same names as every other page
    assert ">Email code<" not in html and "Email code" in html


def test_the_duplicate_message_uses_the_dashboards_date_format(support_client, emulator):
    make_user("u", sms=("+14155550123",))
    html = enroll_sms(support_client, "u").content.decode()
    assert re.search(r"already has SMS \+1 ••• ••• 0123 \(added \d{1,2} \w{3} \d{4}\)\.", html), html[:3000]
    assert "Added SMS" not in html  # no stale success flash beside the refusal
