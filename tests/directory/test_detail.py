"""User detail: profile, authenticators, activity, recent audit events; viewing and revealing are audited."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.helpers import HTMX, events, make_user

pytestmark = pytest.mark.django_db


def detail_url(user_id: str) -> str:
    return reverse("users:detail", args=[user_id])


def test_detail_shows_profile_and_authenticators(support_client, emulator):
    make_user(
        "alice@example.com",
        email="alice@example.com",
        phone="+14155550101",
        sms=("+14155550101",),
        passkeys=("iPhone",),
        emails=("alice@example.com",),
    )
    response = support_client.get(detail_url("alice@example.com"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "iPhone" in html and "SMS" in html and "Email code" in html
    assert "+14155550101" not in html and "•••" in html
    assert "Remove<span" in html and "Reveal email" in html
    (view,) = events("user.view")
    assert view.user_id == "alice@example.com" and len(view.details["authenticators"]) == 3


def test_a_user_with_no_authenticators_is_clearly_shown(support_client, emulator):
    make_user("dave", email="dave@example.com")
    html = support_client.get(detail_url("dave")).content.decode()
    assert "No authenticators." in html and "no way to sign in" in html


def test_an_unknown_user_is_a_proper_not_found_page(support_client, emulator):
    response = support_client.get(detail_url("ghost"))
    assert response.status_code == 404
    assert "Not found in Authsignal" in response.content.decode()


@pytest.mark.parametrize("user_id", ["victim/authenticators/x", "../x", "..", "a?b#c", "100%", "ærø skøbing", "@:"])
def test_hostile_user_ids_reach_the_right_user(support_client, emulator, user_id):
    make_user(user_id, sms=("+14155550199",))
    response = support_client.get(detail_url(user_id))
    assert response.status_code == 200
    assert events("user.view")[0].user_id == user_id


def test_reveal_shows_the_full_contact_and_is_audited(support_client, emulator):
    make_user("rev", email="reveal.me@example.com", emails=("reveal.me@example.com",))
    response = support_client.post(reverse("users:reveal", args=["rev"]), {"field": "email"}, headers=HTMX)
    assert response.status_code == 200
    assert "reveal.me@example.com" in response.content.decode()
    (event,) = events("pii.reveal")
    assert event.outcome == "succeeded" and "reveal.me@example.com" not in str(event.details)


def test_reveal_needs_post(support_client, emulator):
    assert support_client.get(reverse("users:reveal", args=["rev"])).status_code == 405


def test_auditors_cannot_view_users(auditor_client, emulator):
    assert auditor_client.get(detail_url("alice")).status_code == 403
    assert events("access.denied")[0].outcome == "denied"
    assert emulator.request_count == 0


def test_upstream_trouble_is_explained_in_the_page(support_client, emulator):
    emulator.set_faults(error_rate=1.0)
    response = support_client.get(detail_url("alice"))
    assert response.status_code == 502
    html = response.content.decode()
    assert "Authsignal is having trouble" in html and "Traceback" not in html
    assert events("user.view")[0].outcome == "failed"


def test_an_unauthorized_key_is_explained(support_client, emulator):
    emulator.secret_key = "another-key"
    response = support_client.get(detail_url("alice"))
    assert response.status_code == 502
    assert "refused the dashboard&#x27;s API key" in response.content.decode()


def test_query_count_does_not_grow_with_authenticators(support_client, emulator):
    make_user("one", sms=("+14155550100",))
    make_user("many", sms=tuple(f"+1415555{n:04}" for n in range(1, 31)))
    counts = []
    for user_id in ("one", "many"):
        with CaptureQueriesContext(connection) as queries:
            assert support_client.get(detail_url(user_id)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_rate_limit_is_explained_with_retry_after(support_client, emulator):
    make_user("busy", sms=("+14155550100",))
    emulator.set_faults(rate_limit=(0.001, 1))  # one call, then 429 for a long while
    response = support_client.get(detail_url("busy"))
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert "limiting how fast" in response.content.decode()
    assert events("user.view")[0].outcome == "failed"


def test_a_hung_authsignal_is_a_timeout_message(support_client, emulator, settings):
    from adminpanel.authsignal import connection

    settings.AUTHSIGNAL_READ_TIMEOUT = 0.05
    settings.AUTHSIGNAL_RETRY_ATTEMPTS = 1
    connection.reset_client()
    connection.get_emulator().set_faults(hang_rate=1.0)
    response = support_client.get(detail_url("alice"))
    assert response.status_code == 504
    assert "not answering" in response.content.decode() or "timed out" in response.content.decode()


def test_a_refusal_names_the_missing_permission_in_the_audit_log(auditor_client, emulator):
    auditor_client.get(detail_url("alice"))
    (denied,) = events("access.denied")
    assert denied.details["permission"] == "accounts.view_directory"
    assert denied.details["path"] == "/users/alice/"
