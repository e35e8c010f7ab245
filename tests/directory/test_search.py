"""Search: one box for email, phone (national formats), username or exact user id; every search audited."""

from __future__ import annotations

import pytest

from tests.helpers import HTMX, events, make_user

pytestmark = pytest.mark.django_db


def test_search_by_email_finds_the_user_and_masks_contacts(support_client, emulator):
    make_user("u-1", email="Alice.Smith@Example.com", phone="+14155550101", sms=("+14155550101",))
    response = support_client.get("/users/", {"q": "alice.smith@EXAMPLE.com"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "/users/u-1/" in html
    assert "Alice.Smith@Example.com" not in html  # masked
    assert "0101" in html and "+14155550101" not in html
    assert "SMS" in html


@pytest.mark.parametrize("typed", ["(415) 555-0101", "415.555.0101", "+1 415 555 0101", "1-415-555-0101"])
def test_search_by_phone_normalises_national_formats(support_client, emulator, typed):
    make_user("u-phone", phone="+14155550101", sms=("+14155550101",))
    html = support_client.get("/users/", {"q": typed}).content.decode()
    assert "/users/u-phone/" in html
    assert "+14155550101" in html  # what was searched, as E.164


def test_the_default_phone_region_is_configurable(support_client, emulator, settings):
    settings.PHONE_DEFAULT_REGION = "GB"
    make_user("u-uk", phone="+447911123456", sms=("+447911123456",))
    html = support_client.get("/users/", {"q": "07911 123456"}).content.decode()
    assert "/users/u-uk/" in html


def test_search_by_username_and_by_exact_user_id(support_client, emulator):
    make_user("team/alice", username="alice", emails=("alice@corp.example",))
    make_user("alice", emails=("other@corp.example",))
    html = support_client.get("/users/", {"q": "alice"}).content.decode()
    assert "/users/team~2Falice/" in html  # found by username
    assert "/users/alice/" in html and "exact user id" in html


def test_no_result_says_what_was_searched(support_client, emulator):
    html = support_client.get("/users/", {"q": "nobody@example.com"}).content.decode()
    assert "No user matches the email" in html and "nobody@example.com" in html


def test_cursor_paging(support_client, emulator):
    for i in range(30):
        make_user(f"pager-{i:02}", username="shared-name")
    first = support_client.get("/users/", {"q": "shared-name"}).content.decode()
    assert first.count('href="/users/pager-') == 25
    assert "Next page" in first
    cursor = first.split("cursor=")[1].split('"')[0].replace("&amp;", "&")
    from urllib.parse import unquote

    second = support_client.get("/users/", {"q": "shared-name", "cursor": unquote(cursor)}).content.decode()
    assert second.count('href="/users/pager-') == 5
    assert "First page" in second


def test_htmx_gets_only_the_results_fragment(support_client, emulator):
    make_user("frag", username="frag")
    response = support_client.get("/users/", {"q": "frag"}, headers=HTMX)
    html = response.content.decode()
    assert "<html" not in html and "/users/frag/" in html
    assert "HX-Request" in response["Vary"]


def test_every_search_is_audited_with_the_query_masked(support_client, emulator, support_user):
    support_client.get("/users/", {"q": "carol.jones@example.com"})
    (event,) = events("user.search")
    assert event.actor_id == support_user.pk and event.outcome == "succeeded"
    assert "carol.jones@example.com" not in str(event.details)
    assert event.details["kind"] == "email" and event.details["query_digest"]


def test_a_too_long_query_is_refused_with_a_message(support_client, emulator):
    response = support_client.get("/users/", {"q": "x" * 5000})
    assert response.status_code == 422
    assert "at most 320 characters" in response.content.decode()
    assert emulator.request_count == 0


def test_hostile_text_is_shown_escaped(support_client, emulator):
    html = support_client.get("/users/", {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_upstream_failure_is_a_clear_message_not_a_500(support_client, emulator):
    emulator.set_faults(error_rate=1.0)
    response = support_client.get("/users/", {"q": "alice"})
    assert response.status_code == 502
    assert "Authsignal is having trouble" in response.content.decode()
    assert events("user.search")[0].outcome == "failed"


@pytest.mark.parametrize("fixture", ["auditor_client"])
def test_auditors_may_not_search(request, fixture, emulator):
    client = request.getfixturevalue(fixture)
    response = client.get("/users/", {"q": "alice"})
    assert response.status_code == 403
    assert events("access.denied")
    assert emulator.request_count == 0


@pytest.mark.parametrize("typed", ["+44 7700 900123", "07700 900123", "+447700900123"])
def test_a_possible_but_unusual_number_is_searched_in_e164_with_a_note(support_client, emulator, settings, typed):
    """libphonenumber calls 07700 900xxx unassigned; bob's number is stored like that, and must be found."""
    settings.PHONE_DEFAULT_REGION = "GB"
    make_user("bob", phone="+447700900123", sms=("+447700900123",))
    html = support_client.get("/users/", {"q": typed}).content.decode()
    assert "/users/bob/" in html
    assert "Searched by phone number <strong>+447700900123</strong>" in html
    assert "This number looks unusual" in html


def test_digits_that_are_no_phone_number_say_so_and_search_ids(support_client, emulator):
    make_user("12345678901234567", username="acct")
    html = support_client.get("/users/", {"q": "12345678901234567"}).content.decode()
    assert "Not a phone number" in html and "too long" in html
    assert "Searched as a username and user id." in html
    assert "/users/12345678901234567/" in html  # the exact id still matches


def test_a_number_written_with_its_country_code_is_never_told_to_add_one(support_client, emulator):
    response = support_client.post(
        "/users/u/authenticators/enroll/",
        {"method": "SMS", "phone_number": "+44 7700 900123", "verified": "on", "reason": "r"},
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "+447700900123 has the right length for +44 (GB), but numbering plans say that range is not in use" in html
    assert "country code" not in html
    short = support_client.post(
        "/users/u/authenticators/enroll/",
        {"method": "SMS", "phone_number": "+44 7700 9001", "verified": "on", "reason": "r"},
    ).content.decode()
    assert "That number is too short (a local number without its area code) for +44 (GB)." in short
    national = support_client.post(
        "/users/u/authenticators/enroll/",
        {"method": "SMS", "phone_number": "415 555 01", "verified": "on", "reason": "r"},
    ).content.decode()
    assert "Read as a US number (the default region, +1 (US)), it is too short." in national
    assert emulator.request_count == 0
