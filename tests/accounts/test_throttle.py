"""Failed sign-ins are limited per username and per client IP, also for second-factor codes and the admin's
sign-in: a throttled attempt answers 429 with a clear message, even with the right password, and is audited."""

from __future__ import annotations

import pytest
from django.test import Client

from adminpanel.audit.models import AuditEvent
from tests.helpers import SECRET, give_totp, sign_in_password, totp_code

pytestmark = pytest.mark.django_db

THROTTLED = "Too many failed attempts for this account or from this address."


def test_five_wrong_passwords_for_a_username_then_the_right_one_is_refused_with_429(support_user):
    for n in range(5):
        # From five different addresses: the per-username limit holds on its own.
        wrong = sign_in_password(Client(REMOTE_ADDR=f"203.0.113.{n + 1}"), "sam.support", "not the password")
        assert wrong.status_code == 200
    client = Client(REMOTE_ADDR="203.0.113.99")
    right = sign_in_password(client, "sam.support")
    assert right.status_code == 429
    assert THROTTLED in right.content.decode()
    assert 'name="login"' in right.content.decode()  # the form stays, with the message
    assert client.get("/users/")["Location"].startswith("/login/")  # not signed in
    refused = AuditEvent.objects.get(action="staff.login", outcome="denied")
    assert refused.details == {"refused": "throttled", "step": "password", "username": "sam.support"}
    assert refused.actor_ip == "203.0.113.99"
    assert AuditEvent.objects.filter(action="staff.login", outcome="failed").count() == 5


def test_other_usernames_are_not_held_up_by_one_being_throttled(support_user, security_user):
    for n in range(5):
        sign_in_password(Client(REMOTE_ADDR=f"203.0.113.{n + 1}"), "sam.support", "not the password")
    assert sign_in_password(Client(REMOTE_ADDR="198.51.100.7"), "sec.security").status_code == 302


def test_ten_failures_from_one_address_throttle_every_username_from_it(support_user):
    for n in range(10):
        assert sign_in_password(Client(), f"guess{n}", "not the password").status_code == 200
    assert sign_in_password(Client(), "sam.support").status_code == 429
    assert sign_in_password(Client(REMOTE_ADDR="198.51.100.7"), "sam.support").status_code == 302


def test_behind_a_trusted_proxy_the_limit_is_per_forwarded_address(support_user, settings):
    settings.AUDIT_TRUST_X_FORWARDED_FOR = True
    for n in range(10):
        sign_in_password(Client(HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.50"), f"guess{n}", "nope")
    assert sign_in_password(Client(HTTP_X_FORWARDED_FOR="203.0.113.50"), "sam.support").status_code == 429
    # Another client behind the same proxy (same REMOTE_ADDR) is not held up.
    assert sign_in_password(Client(HTTP_X_FORWARDED_FOR="203.0.113.51"), "sam.support").status_code == 302
    event = AuditEvent.objects.get(action="staff.login", outcome="denied")
    assert event.actor_ip == "203.0.113.50"


def test_five_wrong_second_factor_codes_then_the_right_one_is_refused_with_429(support_user):
    give_totp(support_user)
    client = Client()
    sign_in_password(client, "sam.support")
    for _ in range(5):
        assert client.post("/account/authenticate/", {"code": "000001"}).status_code == 200
    right = client.post("/account/authenticate/", {"code": totp_code(SECRET)})
    assert right.status_code == 429
    assert THROTTLED in right.content.decode()
    assert client.get("/users/")["Location"].startswith("/login/")
    refused = AuditEvent.objects.get(action="staff.second_factor.use", outcome="denied")
    assert refused.details == {"refused": "throttled", "step": "second_factor"}
    assert refused.actor_username == "sam.support"


def test_the_admin_has_no_sign_in_form_of_its_own(client, django_user_model):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/admin/"
    posted = client.post("/admin/login/", {"username": "boss", "password": "pw-for-the-boss-123"})
    assert posted.status_code == 302 and posted["Location"].startswith("/login/")
    assert client.get("/admin/").status_code == 302


def test_the_admin_is_reached_through_the_throttled_sign_in(django_user_model):
    django_user_model.objects.create_superuser("boss", password="pw-for-the-boss-123")
    for n in range(5):
        sign_in_password(Client(REMOTE_ADDR=f"203.0.113.{n + 1}"), "boss", "wrong")
    assert sign_in_password(Client(), "boss", "pw-for-the-boss-123").status_code == 429
    ok = Client(REMOTE_ADDR="198.51.100.1")
    assert ok.get("/admin/login/?next=/admin/")["Location"] == "/login/?next=/admin/"
    assert sign_in_password(ok, "boss", "pw-for-the-boss-123").status_code == 429  # the username is held
    other = django_user_model.objects.create_superuser("root2", password="pw-for-root-two-456")
    response = ok.post("/login/?next=/admin/", {"login": other.username, "password": "pw-for-root-two-456"})
    assert response["Location"] == "/admin/"
    assert ok.get("/admin/").status_code == 200


def test_an_outside_next_url_is_not_followed_from_the_admin(client, django_user_model):
    boss = django_user_model.objects.create_superuser("boss", password="pw-for-the-boss-123")
    client.force_login(boss)
    assert client.get("/admin/login/?next=https://evil.example/")["Location"] == "/admin/"


def test_too_many_sign_in_pages_from_one_address_are_answered_429(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}
    for _ in range(3):
        assert sign_in_password(client, "nobody", "x").status_code == 200
    response = sign_in_password(client, "nobody", "x")
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    event = AuditEvent.objects.get(action="access.denied")
    assert event.details["refused"] == "throttled" and event.details["status"] == 429
