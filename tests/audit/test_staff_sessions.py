"""Sign-in, failed sign-in and sign-out are audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from adminpanel.audit.models import AuditEvent

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def test_a_successful_sign_in_is_recorded(support_user):
    client = Client(HTTP_USER_AGENT="Firefox/140")
    response = client.post(reverse("login"), {"login": "sam.support", "password": PASSWORD})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="staff.login")
    assert event.outcome == "succeeded" and event.actor_username == "sam.support"
    assert event.actor_id == support_user.pk and event.actor_ip == "127.0.0.1"
    assert event.actor_user_agent == "Firefox/140" and event.request_id


def test_a_failed_sign_in_is_recorded_with_the_attempted_username_only(support_user):
    response = Client().post(reverse("login"), {"login": "sam.support", "password": "wrong password!"})
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="staff.login")
    assert event.outcome == "failed" and event.actor_id is None and event.actor_username == ""
    assert event.details == {"username": "sam.support"}
    assert "wrong" not in str(event.details)


def test_a_sign_out_is_recorded(support_user):
    client = Client()
    client.post(reverse("login"), {"login": "sam.support", "password": PASSWORD})
    client.post(reverse("logout"))
    event = AuditEvent.objects.filter(action="staff.logout").get()
    assert event.outcome == "succeeded" and event.actor_username == "sam.support"


def test_x_forwarded_for_is_ignored_unless_trusted(support_user, settings):
    Client(HTTP_X_FORWARDED_FOR="203.0.113.9").post(reverse("login"), {"login": "sam.support", "password": PASSWORD})
    settings.AUDIT_TRUST_X_FORWARDED_FOR = True
    # "1.2.3.4" is what the staff member's browser claimed; the proxy appended the address it really saw.
    Client(HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9").post(
        reverse("login"), {"login": "sam.support", "password": PASSWORD}
    )
    logins = AuditEvent.objects.filter(action="staff.login").order_by("seq")
    assert [e.actor_ip for e in logins] == ["127.0.0.1", "203.0.113.9"]
