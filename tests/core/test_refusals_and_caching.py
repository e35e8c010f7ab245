"""CSRF refusals are recorded like every other 403; no page, fragment, reveal or export may be cached."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from adminpanel.audit.models import AuditEvent
from adminpanel.audit.services import SUCCEEDED, record
from tests.helpers import HTMX, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict_client(support_user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(support_user)
    return client


def test_a_post_without_its_csrf_token_is_refused_on_our_page_and_recorded(strict_client, fresh_emulator):
    make_user("alice", email="alice@example.com")
    response = strict_client.post(reverse("users:reveal", args=["alice"]), {"field": "email"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "This form could not be accepted" in html and "Nothing was changed" in html
    assert "style=" not in html  # Django's own CSRF page has inline styles our CSP blocks
    (event,) = AuditEvent.objects.filter(action="access.denied")
    assert event.outcome == "denied" and event.actor_username == "sam.support"
    assert event.details["refused"] == "csrf" and event.details["method"] == "POST"
    assert "CSRF" in event.details["csrf_reason"]
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()


def test_an_htmx_post_with_a_wrong_token_gets_a_fragment_and_is_recorded(strict_client):
    response = strict_client.post(reverse("audit:verify"), headers={**HTMX, "X-CSRFToken": "x" * 32})
    assert response.status_code == 403
    assert "<html" not in response.content.decode() and "could not be accepted" in response.content.decode()
    assert AuditEvent.objects.filter(action="access.denied", details__refused="csrf").count() == 1


def test_a_sign_in_post_without_a_token_is_recorded_too():
    response = Client(enforce_csrf_checks=True).post(reverse("login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="access.denied")
    assert event.actor_id is None and event.details["path"] == "/login/"


def no_store(response) -> bool:  # type: ignore[no-untyped-def]
    return "no-store" in response.get("Cache-Control", "") and "private" in response.get("Cache-Control", "")


def test_every_authenticated_answer_is_no_store(support_client, auditor_user, fresh_emulator):
    make_user("alice", email="alice@example.com", sms=("+14155550101",))
    assert no_store(support_client.get(reverse("users:list"), {"q": "alice@example.com"}))
    assert no_store(support_client.get(reverse("users:list"), {"q": "alice@example.com"}, headers=HTMX))
    assert no_store(support_client.get(reverse("users:detail", args=["alice"])))
    reveal = support_client.post(reverse("users:reveal", args=["alice"]), {"field": "email"}, headers=HTMX)
    assert reveal.status_code == 200 and "alice@example.com" in reveal.content.decode() and no_store(reveal)
    auditor = Client()
    auditor.force_login(auditor_user)
    record("user.view", SUCCEEDED, user_id="alice")
    for name in ("audit:events-list", "audit:export-csv", "audit:export-jsonl"):
        assert no_store(auditor.get(reverse(name))), name


def test_the_sign_in_page_and_refusals_are_not_cached_either(auditor_client):
    assert no_store(Client().get(reverse("login")))
    assert no_store(auditor_client.get(reverse("users:list")))  # a 403
