"""Single sign-on in Chromium against the local OpenID Connect provider: the sign-in page's button, the trip to
the provider and back (the CSP lets the form's redirect through), and the role the IdP group grants."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from adminpanel.accounts.roles import sync_roles
from tests.e2e.conftest import shot
from tests.oidc import person, use_provider

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sso_in_the_browser_signs_in_with_the_role_of_the_idp_group(
    page, settings, oidc_provider, fresh_emulator, audit_log_flushable
):
    sync_roles()  # an earlier transactional test's flush removed the role groups the migration made
    use_provider(settings, oidc_provider)
    settings.STAFF_MFA_REQUIRED = True
    settings.OIDC_TRUST_IDP_MFA = True
    oidc_provider.claims_file.write_text(json.dumps(person("olivia", ["okta-sec"], amr=["pwd", "mfa"])))
    page.goto("/login/")
    shot(page, "30-sign-in-with-sso")
    page.get_by_role("button", name="Sign in with Okta").click()
    expect(page).to_have_url(re.compile(r"/audit/$|/users/$"))
    expect(page.locator(".staff-name")).to_have_text("Olivia Example")
    expect(page.locator(".staff-role")).to_have_text("Security")
    shot(page, "31-signed-in-by-sso")
    assert list(User.objects.get(username="olivia").groups.values_list("name", flat=True)) == ["Security"]
    assert not page.console_errors
