"""Roles are created by migration with the permission table of the README; sign-in and the base layout."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from adminpanel.accounts.roles import PERMISSIONS

pytestmark = pytest.mark.django_db


def test_the_three_roles_hold_exactly_the_permissions_of_the_design():
    def codes(name: str) -> set[str]:
        return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))

    assert codes("Support") == {
        "view_directory",
        "reveal_pii",
        "enroll_authenticator",
        "remove_authenticator",
    }
    assert codes("Security") == set(PERMISSIONS)
    assert codes("Auditor") == {"view_audit"}


def test_the_login_page_shows_the_emulator_banner(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Emulator" in html and "not a real tenant" in html
    assert 'name="login"' in html


def test_pages_need_sign_in(client):
    response = client.get("/users/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_an_htmx_request_with_an_expired_session_redirects_the_whole_page(client):
    response = client.get("/users/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/login/")


def test_signing_in_lands_on_the_first_area_of_the_role(client, auditor_user):
    response = client.post(
        reverse("login"), {"login": auditor_user.username, "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"] == "/audit/"


def test_navigation_follows_permissions(client, support_user, security_user, auditor_user):
    def page_for(user) -> str:
        client.force_login(user)
        return client.get("/no-such-page/").content.decode()  # any page with the base layout

    page = page_for(support_user)
    assert ">Users<" in page and ">Audit<" not in page and ">Bulk<" not in page
    assert "sam.support" in page and "Support" in page
    page = page_for(security_user)
    assert ">Users<" in page and ">Audit<" in page
    page = page_for(auditor_user)
    assert ">Users<" not in page and ">Audit<" in page


def test_a_staff_member_without_a_role_is_told_so(client, no_role_user):
    client.force_login(no_role_user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "No role assigned" in response.content.decode()


def test_django_admin_is_for_superusers_only(client, security_user, django_user_model):
    security_user.is_staff = True
    security_user.save()
    client.force_login(security_user)
    assert client.get("/admin/").status_code == 302
    boss = django_user_model.objects.create_superuser("boss", password="pw-for-the-boss-123")
    client.force_login(boss)
    assert client.get("/admin/").status_code == 200


def test_every_page_carries_a_strict_csp_with_a_nonce_and_the_csrf_header(client):
    response = client.get(reverse("login"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "'nonce-" in csp
    assert "unsafe-inline" not in csp
    nonce = csp.split("'nonce-")[1].split("'")[0]
    html = response.content.decode()
    assert f'nonce="{nonce}"' in html
    assert "django_htmx/htmx-2.min.js" in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


@pytest.fixture(autouse=True)
def fresh_readiness():
    from adminpanel.core.health import forget_authsignal_status

    forget_authsignal_status()
    yield
    forget_authsignal_status()


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "authsignal": "ok"}


def test_readyz_fails_when_authsignal_rejects_the_key(client, settings):
    from adminpanel.authsignal import connection

    settings.EMULATOR_SECRET_KEY = "the-emulator-expects-this"
    connection.reset_client()
    emulator = connection.get_emulator()
    # The client sends the configured key; make the emulator expect another one.
    emulator.secret_key = "a-different-key"
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "authsignal": "error"}  # the reason is logged, not shown


def test_readyz_asks_authsignal_at_most_every_few_seconds(client, fresh_emulator):
    for _ in range(5):
        assert client.get("/readyz").status_code == 200
    assert fresh_emulator.request_count == 1


def test_against_real_authsignal_the_header_names_the_region_instead_of_the_banner(client, settings, support_user):
    settings.AUTHSIGNAL_USE_EMULATOR = False
    settings.AUTHSIGNAL_API_URL = settings.AUTHSIGNAL_REGIONS["eu"]
    client.force_login(support_user)
    html = client.get("/no-such-page/").content.decode()
    assert "not a real tenant" not in html
    assert "Authsignal EU region (eu.api.authsignal.com)" in html
    settings.AUTHSIGNAL_API_URL = "http://127.0.0.1:9100/v1"
    assert "Authsignal at http://127.0.0.1:9100/v1" in client.get("/no-such-page/").content.decode()
