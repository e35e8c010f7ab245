"""Single sign-on end to end against a real OpenID Connect provider process (npm oauth2-mock-server on loopback):
groups map to roles, an unknown group gets an account with no role (or none, if so configured), and the
dashboard's own second factor is still required unless the IdP's MFA is trusted and the ID token says so."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client

from adminpanel.audit.models import AuditEvent
from tests.oidc import Provider, person, use_provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def sso(settings, oidc_provider):
    return use_provider(settings, oidc_provider)


def sso_sign_in(client: Client, provider: Provider, claims: dict):  # type: ignore[no-untyped-def]
    """The browser's part, played by the test: start at the dashboard, visit the provider, come back."""
    provider.claims_file.write_text(json.dumps(claims))
    start = client.post("/account/oidc/sso/login/", {"process": "login"})
    assert start.status_code == 302, start.content
    authorize = start["Location"]
    assert authorize.startswith(provider.issuer + "/authorize?")
    answer = httpx.get(authorize, follow_redirects=False, timeout=10)
    assert answer.status_code == 302
    callback = urlsplit(answer.headers["location"])
    assert callback.path == "/account/oidc/sso/login/callback/"
    return client.get(f"{callback.path}?{callback.query}")


def test_the_sign_in_page_offers_single_sign_on(client, sso):
    html = client.get("/login/").content.decode()
    assert "Sign in with Okta" in html and 'action="/account/oidc/sso/login/' in html


def test_sso_creates_the_account_and_maps_groups_to_roles(sso):
    client = Client()
    response = sso_sign_in(client, sso, person("olivia", ["okta-support", "everyone"]))
    assert response.status_code == 302, response.content.decode()
    olivia = User.objects.get(username="olivia")
    assert list(olivia.groups.values_list("name", flat=True)) == ["Support"]
    assert not olivia.has_usable_password() and not olivia.is_staff and not olivia.is_superuser
    assert client.get("/users/").status_code == 200
    assert client.get("/audit/").status_code == 403
    login = AuditEvent.objects.get(action="staff.login", outcome="succeeded")
    assert login.actor_username == "olivia"


def test_each_sso_sign_in_sets_the_roles_to_what_the_idp_says(sso):
    sso_sign_in(Client(), sso, person("olivia", ["okta-support"]))
    olivia = User.objects.get(username="olivia")
    other, _ = olivia.groups.model.objects.get_or_create(name="Newsletter")  # not a role: left alone
    olivia.groups.add(other)
    client = Client()
    assert sso_sign_in(client, sso, person("olivia", ["okta-sec"])).status_code == 302
    assert sorted(olivia.groups.values_list("name", flat=True)) == ["Newsletter", "Security"]
    assert client.get("/audit/").status_code == 200
    sso_sign_in(Client(), sso, person("olivia", []))
    assert list(olivia.groups.values_list("name", flat=True)) == ["Newsletter"]


def test_an_unknown_group_gets_an_account_with_no_role(sso):
    client = Client()
    assert sso_sign_in(client, sso, person("mallory", ["marketing"])).status_code == 302
    mallory = User.objects.get(username="mallory")
    assert not mallory.groups.exists()
    page = client.get("/", follow=True)
    assert "No role assigned" in page.content.decode()
    assert client.get("/users/").status_code == 403


def test_with_signup_without_role_off_an_unknown_group_gets_no_account(sso, settings):
    settings.OIDC_SIGNUP_WITHOUT_ROLE = False
    response = sso_sign_in(Client(), sso, person("mallory", ["marketing"]))
    assert response.status_code == 200
    assert "No staff account for you here" in response.content.decode()
    assert not User.objects.filter(username="mallory").exists()
    refused = AuditEvent.objects.get(action="staff.sso.signup")
    assert refused.outcome == "denied" and refused.details["groups"] == ["marketing"]
    assert sso_sign_in(Client(), sso, person("sam", ["okta-support"])).status_code == 302  # mapped: created


def test_sso_users_still_register_the_dashboards_second_factor(sso, mfa_required):
    client = Client()
    sso_sign_in(client, sso, person("olivia", ["okta-support"], amr=["pwd", "mfa"]))
    assert client.get("/users/")["Location"] == "/account/"
    # No password to confirm with: registering the first factor right after signing in needs none.
    assert client.get("/account/totp/activate/").status_code == 200


def test_the_idps_mfa_counts_when_trusted_and_the_id_token_says_so(sso, mfa_required, settings):
    settings.OIDC_TRUST_IDP_MFA = True
    with_mfa = Client()
    sso_sign_in(with_mfa, sso, person("olivia", ["okta-support"], amr=["pwd", "mfa"]))
    assert with_mfa.get("/users/").status_code == 200
    password_only = Client()
    sso_sign_in(password_only, sso, person("olivia", ["okta-support"], amr=["pwd"]))
    assert password_only.get("/users/")["Location"] == "/account/"


def test_a_tampered_callback_signs_nobody_in_and_is_recorded(sso):
    client = Client()
    sso.claims_file.write_text(json.dumps(person("olivia", ["okta-support"])))
    client.post("/account/oidc/sso/login/", {"process": "login"})
    response = client.get("/account/oidc/sso/login/callback/?code=made-up&state=made-up")
    assert response.status_code == 401
    assert "Single sign-on failed" in response.content.decode()
    assert not User.objects.filter(username="olivia").exists()
    failed = AuditEvent.objects.get(action="staff.login", outcome="failed")
    assert failed.details["method"] == "sso"
