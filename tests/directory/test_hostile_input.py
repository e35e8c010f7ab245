"""Hostile and odd input in every support-desk field: clear messages, nothing executed, nothing wrong sent upstream."""

from __future__ import annotations

import pytest
from django.urls import reverse

from adminpanel.authsignal.connection import get_client
from tests.helpers import HTMX, events, make_user

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ATTRS = '"><img src=x onerror=alert(1) hx-get="/admin/" hx-trigger="load">'


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+44 (0)7911 123456", "+447911123456"),
        ("+44 7911-123-456", "+447911123456"),
        ("(415)555.0123", "+14155550123"),
        ("415 555 0123", "+14155550123"),
        ("+1 (415) 555-0123", "+14155550123"),
        ("\u0664\u0661\u0665\u0665\u0665\u0665\u0660\u0661\u0662\u0663", "+14155550123"),  # Arabic-Indic digits
        ("  +61 412 345 678  ", "+61412345678"),
    ],
)
def test_odd_phone_formats_are_normalised_to_e164_before_sending(support_client, emulator, typed, stored):
    response = support_client.post(
        reverse("users:enroll", args=["odd"]),
        {"method": "SMS", "phone_number": typed, "verified": "on", "reason": "odd format"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [a.phone_number for a in get_client().get_authenticators("odd")] == [stored]


@pytest.mark.parametrize(
    "typed",
    ["415-555-012", "+1 415 555 0123 ext 9", "tel:+14155550123", "+999 1234567", "0" * 41, SCRIPT],
)
def test_phone_numbers_that_are_not_numbers_are_refused_without_a_call(support_client, emulator, typed):
    response = support_client.post(
        reverse("users:enroll", args=["odd"]),
        {"method": "SMS", "phone_number": typed, "verified": "on", "reason": "odd format"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert emulator.request_count == 0
    assert "<script>alert(1)" not in response.content.decode()


def test_html_and_js_in_every_enroll_field_is_escaped_and_refused(support_client, emulator):
    fields = {
        "method": "EMAIL_OTP",
        "email": SCRIPT + "@example.com",
        "phone_number": ATTRS,
        "credential_id": ATTRS,
        "credential_public_key": SCRIPT,
        "name": SCRIPT,
        "verified": "on",
        "reason": ATTRS,
        "ticket": SCRIPT,
    }
    response = support_client.post(reverse("users:enroll", args=[SCRIPT]), fields, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 422
    assert SCRIPT not in html and "<img src=x" not in html
    assert emulator.request_count == 0


def test_html_and_js_in_user_ids_reason_and_ticket_are_stored_verbatim_and_shown_escaped(support_client, emulator):
    user_id = f"{SCRIPT}/{{{{7*7}}}}"
    make_user(user_id, sms=("+14155550100",))
    response = support_client.post(
        reverse("users:enroll", args=[user_id]),
        {"method": "SMS", "phone_number": "+14155550101", "verified": "on", "reason": ATTRS, "ticket": SCRIPT[:100]},
    )
    assert response.status_code == 302
    enrolled = events("authenticator.enroll")[-1]
    assert enrolled.user_id == user_id and enrolled.reason == ATTRS and enrolled.ticket == SCRIPT
    page = support_client.get(reverse("users:detail", args=[user_id])).content.decode()
    assert SCRIPT not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page and "{{7*7}}" in page


@pytest.mark.parametrize("field", ["reason", "ticket", "name", "email"])
def test_five_kilobyte_strings_get_a_length_message(support_client, emulator, field):
    data = {"method": "PASSKEY" if field == "name" else "EMAIL_OTP", "verified": "on", "reason": "r", "email": "a@b.co"}
    data[field] = "x" * 5000
    response = support_client.post(reverse("users:enroll", args=["long"]), data, headers=HTMX)
    assert response.status_code == 422
    assert "Ensure this value has at most" in response.content.decode()
    assert emulator.request_count == 0


@pytest.mark.parametrize("name", ["detail", "enroll", "remove", "reveal"])
def test_a_five_kilobyte_user_id_is_refused_clearly_recorded_and_never_sent(support_client, emulator, name):
    args = ["u" * 5000, "a"] if name == "remove" else ["u" * 5000]
    url = reverse(f"users:{name}", args=args)
    response = support_client.post(url, {"field": "email"}) if name == "reveal" else support_client.get(url)
    assert response.status_code == 400
    assert "5,000 characters long" in response.content.decode()
    assert emulator.request_count == 0
    (refused,) = events(outcome="denied")
    assert refused.details["refused"] == "user_id_too_long" and len(refused.user_id) == 255


def test_a_user_id_of_255_characters_is_fine(support_client, emulator):
    response = support_client.get(reverse("users:detail", args=["u" * 255]))
    assert response.status_code == 404
    assert "Not found in Authsignal" in response.content.decode()


def test_remove_with_hostile_authenticator_id_is_refused_without_a_call(support_client, support_user, emulator):
    make_user("u", sms=("+14155550100", "+14155550101"))
    before = emulator.request_count
    response = support_client.post(
        "/users/u/authenticators/%3Cscript%3E%20../remove/", {"token": "forged", "reason": SCRIPT}, headers=HTMX
    )
    assert response.status_code == 403
    assert SCRIPT not in response.content.decode()
    assert emulator.request_count == before


def test_a_very_long_authenticator_id_is_refused_clearly_and_recorded(support_client, emulator):
    response = support_client.post(reverse("users:remove", args=["u", "a" * 300]), {"token": "x", "reason": "r"})
    assert response.status_code == 400
    assert "authenticator id is 300 characters long" in response.content.decode()
    (refused,) = events(outcome="denied")
    assert refused.details["refused"] == "authenticator_id_too_long" and len(refused.authenticator_id) == 255
    assert emulator.request_count == 0


# --- hostile data from Authsignal itself ---

RLO = "\u202e"


def test_a_user_id_with_nul_seeded_upstream_is_shown_visibly_and_refused_clearly(support_client, emulator):
    emulator.seed([{"userId": "evil\x00id", "username": "evil-nul", "email": "evil@example.com"}])
    found = support_client.get(reverse("users:list"), {"q": "evil-nul"})
    html = found.content.decode()
    assert found.status_code == 200 and "evil\u2400id" in html  # ␀, not an invisible NUL
    link = reverse("users:detail", args=["evil\x00id"])
    assert link in html
    before = emulator.request_count
    for response in (
        support_client.get(link),
        support_client.post(reverse("users:reveal", args=["evil\x00id"]), {"field": "email"}),
        support_client.get(reverse("users:enroll", args=["evil\x00id"])),
        support_client.get(reverse("users:remove", args=["evil\x00id", "a"])),
        support_client.get(reverse("users:remove", args=["u", "a\x1b[31m"])),
    ):
        assert response.status_code == 400
        assert "control characters" in response.content.decode()
    assert emulator.request_count == before
    refusals = events(outcome="denied")
    assert len(refusals) == 5
    assert {e.details["refused"] for e in refusals} == {
        "user_id_control_characters",
        "authenticator_id_control_characters",
    }


def test_right_to_left_overrides_are_shown_visibly_and_isolated(support_client, emulator):
    evil_id = f"admin{RLO}gpj.exe"
    make_user(evil_id, username=f"bob{RLO}nimda", passkeys=(f"iPhone{RLO}ecafeci",))
    page = support_client.get(reverse("users:list"), {"q": f"bob{RLO}nimda"}).content.decode()
    html = page[page.index("<table") :]  # the results (the search box keeps what the agent typed)
    assert RLO not in html
    assert '<bdi class="uid">admin⟨U+202E⟩gpj.exe</bdi>' in html and "<bdi>bob⟨U+202E⟩nimda</bdi>" in html


def test_a_user_page_with_bidi_controls_works_and_shows_them(support_client, emulator):
    """Bidi controls are formatting, not control characters: the page works, and shows them for what they are."""
    evil_id = f"admin{RLO}gpj.exe"
    make_user(evil_id, username=f"bob{RLO}nimda", passkeys=(f"iPhone{RLO}ecafeci",))
    response = support_client.get(reverse("users:detail", args=[evil_id]))
    html = response.content.decode()
    assert response.status_code == 200
    assert RLO not in html
    assert "<bdi>iPhone⟨U+202E⟩ecafeci</bdi>" in html and "<bdi>bob⟨U+202E⟩nimda</bdi>" in html


def test_a_user_id_that_is_an_email_is_masked_like_the_email_and_revealed_on_request(support_client, emulator):
    make_user("ann.user@example.com", email="ann.user@example.com", sms=("+14155550144",))
    page = support_client.get(reverse("users:list"), {"q": "ann.user@example.com"}).content.decode()
    results = page[page.index("<table") :]  # the box and the summary keep what the agent typed
    assert "ann.user@example.com" not in results.replace("/users/ann.user@example.com/", "")
    assert "a***r@e***e.com" in results
    page = support_client.get(reverse("users:detail", args=["ann.user@example.com"])).content.decode()
    title = page[page.index("<title>") : page.index("</title>")]
    assert "ann.user@example.com" not in title
    crumbs = page[page.index('class="crumbs"') : page.index("</nav>", page.index('class="crumbs"'))]
    assert "ann.user@example.com<" not in crumbs and "a***r@e***e.com" in crumbs
    assert "Reveal user id" in page
    revealed = support_client.post(
        reverse("users:reveal", args=["ann.user@example.com"]), {"field": "user_id"}, headers=HTMX
    )
    assert revealed.status_code == 200 and "ann.user@example.com" in revealed.content.decode()
    (reveal,) = events("pii.reveal")
    assert reveal.details["field"] == "user_id" and reveal.details["value"] == "a***r@e***e.com"


def test_a_phone_number_user_id_is_masked_and_an_ordinary_id_is_not_offered_a_reveal(support_client, emulator):
    make_user("+14155550166", sms=("+14155550166",))
    page = support_client.get(reverse("users:detail", args=["+14155550166"])).content.decode()
    assert "+14155550166<" not in page and "+1 ••• ••• 0166" in page
    make_user("cust-1234", sms=("+14155550167",))
    plain = support_client.get(reverse("users:detail", args=["cust-1234"])).content.decode()
    assert "cust-1234" in plain and "Reveal user id" not in plain
    refused = support_client.post(reverse("users:reveal", args=["cust-1234"]), {"field": "user_id"}, headers=HTMX)
    assert refused.status_code == 200 and "none on file" in refused.content.decode()


def test_the_audit_list_masks_contact_user_ids_but_filters_by_the_full_id(auditor_client):
    from adminpanel.audit.services import SUCCEEDED, record

    record("user.view", SUCCEEDED, user_id="ann.user@example.com")
    record("user.view", SUCCEEDED, user_id="cust-1234")
    html = auditor_client.get(reverse("audit:events-list")).content.decode()
    assert "ann.user@example.com" not in html and "a***r@e***e.com" in html and "cust-1234" in html
    filtered = auditor_client.get(reverse("audit:events-list"), {"user": "ann.user@example.com"})
    assert [e.user_id for e in filtered.context["page"].events] == ["ann.user@example.com"]
