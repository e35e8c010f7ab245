"""Staff sessions: a new key at sign-in, an idle timeout and an absolute limit, said on the sign-in page."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from adminpanel.accounts.middleware import SEEN_KEY, STARTED_KEY
from adminpanel.audit.models import AuditEvent
from tests.helpers import sign_in_password

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    assert sign_in_password(client, user.username).status_code == 302
    return client


def age_session(client: Client, *, started_ago: float = 0, seen_ago: float = 0) -> None:
    session = client.session
    now = time.time()
    session[STARTED_KEY] = now - started_ago
    session[SEEN_KEY] = now - seen_ago
    session.save()


def test_signing_in_starts_a_new_session_key(support_user):
    client = Client()
    client.get("/login/")
    client.session.save()
    anonymous = client.session.session_key
    sign_in_password(client, "sam.support")
    assert client.session.session_key != anonymous


def test_fifteen_idle_minutes_end_the_session_and_the_sign_in_page_says_so(support_user):
    client = signed_in(support_user)
    age_session(client, seen_ago=15 * 60 + 5)
    response = client.get("/users/?q=alice")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fusers%2F%3Fq%3Dalice"
    page = client.get(response["Location"]).content.decode()
    assert "Your session ended after 15 minutes without activity." in page
    assert client.get("/users/")["Location"].startswith("/login/")  # really signed out
    event = AuditEvent.objects.get(action="staff.session.expire")
    assert event.actor_username == "sam.support" and event.details["reason"] == "idle"
    assert event.details["idle_seconds"] >= 15 * 60


def test_activity_keeps_the_session_alive(support_user):
    client = signed_in(support_user)
    age_session(client, seen_ago=14 * 60)
    assert client.get("/users/").status_code == 200
    assert time.time() - client.session[SEEN_KEY] < 5  # the clock restarted
    assert not AuditEvent.objects.filter(action="staff.session.expire").exists()


def test_eight_hours_end_the_session_however_active(support_user):
    client = signed_in(support_user)
    age_session(client, started_ago=8 * 3600 + 1, seen_ago=10)
    response = client.get("/users/")
    assert response.status_code == 302
    assert "sessions last at most 8 hours" in client.get(response["Location"]).content.decode()
    assert AuditEvent.objects.get(action="staff.session.expire").details["reason"] == "absolute"


def test_an_htmx_request_after_the_timeout_redirects_the_whole_page(support_user):
    client = signed_in(support_user)
    age_session(client, seen_ago=16 * 60)
    response = client.post("/users/alice/reveal/", {"field": "email"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/login/"
    assert "Your session ended after 15 minutes" in client.get("/login/").content.decode()


def test_a_form_posted_after_the_timeout_is_not_applied_and_the_agent_is_told(support_user, settings):
    settings.STAFF_IDLE_TIMEOUT_SECONDS = 60
    client = signed_in(support_user)
    age_session(client, seen_ago=61)
    response = client.post("/users/alice/authenticators/enroll/", {"method": "SMS", "phone_number": "+14155550100"})
    assert response["Location"] == "/login/"
    assert not AuditEvent.objects.filter(action="authenticator.enroll").exists()
    assert "Your session ended after 1 minute without activity." in client.get("/login/").content.decode()
