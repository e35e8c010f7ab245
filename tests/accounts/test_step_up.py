"""Step-up: a lockout override and any change to staff accounts or roles need a second factor checked within the
last STAFF_STEP_UP_SECONDS; the override dialog keeps what the agent typed, the admin's form is replayed."""

from __future__ import annotations

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django_htmx.middleware import HtmxDetails

from adminpanel.accounts.stepup import step_up_is_fresh, step_up_required
from adminpanel.audit.models import AuditEvent
from adminpanel.authsignal.connection import get_client
from tests.helpers import SECRET, give_totp, make_user, sign_in_with_second_factor, step_up_with_totp, totp_code

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def remove_url(authenticator_id: str) -> str:
    return f"/users/bob/authenticators/{authenticator_id}/remove/"


def open_dialog(client: Client, authenticator_id: str) -> str:
    html = client.get(remove_url(authenticator_id), headers=HTMX).content.decode()
    return html.split('name="token" value="')[1].split('"')[0]


def test_an_override_asks_for_a_step_up_then_returns_to_the_dialog_filled_in(security_user, fresh_emulator):
    (only,) = make_user("bob", username="bob", sms=("+447700900123",))
    give_totp(security_user)
    client = sign_in_with_second_factor(Client(), security_user)  # signed in with a second factor: not enough
    token = open_dialog(client, only.user_authenticator_id)
    typed = {"token": token, "reason": "Account taken over", "ticket": "SEC-77", "override_lockout": "on"}
    response = client.post(remove_url(only.user_authenticator_id), typed, headers=HTMX)
    assert response.status_code == 200
    step_up = response["HX-Redirect"]
    assert step_up == "/account/reauthenticate/?next=" + remove_url(only.user_authenticator_id).replace("/", "%2F")
    assert len(get_client().get_authenticators("bob")) == 1  # nothing removed
    page = client.get(step_up)
    assert page.status_code == 200 and "Confirm with your second factor" in page.content.decode()
    wrong = client.post(step_up, {"code": "000001"})
    assert wrong.status_code == 200 and "Incorrect code." in wrong.content.decode()
    back = client.post(step_up, {"code": totp_code(SECRET)})
    assert back.status_code == 302 and back["Location"] == remove_url(only.user_authenticator_id)
    dialog = client.get(back["Location"]).content.decode()
    assert "Account taken over</textarea>" in dialog
    assert 'value="SEC-77"' in dialog
    assert re.search(r'name="override_lockout"[^>]*checked', dialog)
    assert client.get(back["Location"]).content.decode().count("SEC-77") == 0  # kept once only
    new_token = dialog.split('name="token" value="')[1].split('"')[0]
    done = client.post(remove_url(only.user_authenticator_id), {**typed, "token": new_token}, headers=HTMX)
    assert done.status_code == 200 and "Lockout guard overridden" in done.content.decode()
    assert get_client().get_authenticators("bob") == []
    steps = AuditEvent.objects.filter(action="staff.step_up").order_by("seq")
    assert [(e.outcome, e.details.get("for", e.details.get("type"))) for e in steps] == [
        ("denied", "lockout.override"),
        ("failed", "totp"),
        ("succeeded", "totp"),
    ]


def test_support_without_the_override_permission_is_refused_at_once(support_user, fresh_emulator):
    only, _ = make_user("bob", username="bob", sms=("+447700900123", "+447700900124"))
    client = sign_in_with_second_factor(Client(), support_user)
    token = open_dialog(client, only.user_authenticator_id)
    response = client.post(
        remove_url(only.user_authenticator_id),
        {"token": token, "reason": "x", "ticket": "T-1", "override_lockout": "on"},
        headers=HTMX,
    )
    assert response.status_code == 403
    assert "may not override" in response.content.decode()
    assert not AuditEvent.objects.filter(action="staff.step_up").exists()


def test_the_step_up_stays_fresh_for_five_minutes_only(security_user, settings, fresh_emulator):
    client = sign_in_with_second_factor(Client(), security_user)
    step_up_with_totp(client, security_user)
    request = RequestFactory().get("/")
    request.user = security_user
    request.session = client.session
    assert step_up_is_fresh(request)
    settings.STAFF_STEP_UP_SECONDS = 1
    time.sleep(1.1)
    assert not step_up_is_fresh(request)


def test_a_step_up_rotates_the_session_key(security_user):
    client = sign_in_with_second_factor(Client(), security_user)
    before = client.session.session_key
    step_up_with_totp(client, security_user)
    assert client.session.session_key != before
    assert client.get("/users/").status_code == 200  # still signed in


def test_without_a_second_factor_the_step_up_sends_to_register_one(security_user, fresh_emulator):
    (only,) = make_user("bob", username="bob", sms=("+447700900123",))
    client = Client()
    client.force_login(security_user)
    token = open_dialog(client, only.user_authenticator_id)
    response = client.post(
        remove_url(only.user_authenticator_id),
        {"token": token, "reason": "x", "ticket": "T-1", "override_lockout": "on"},
    )
    assert response["Location"] == "/account/"
    assert "Register a passkey or an authenticator app first" in client.get("/account/").content.decode()


def test_the_decorator_guards_any_post_and_lets_a_fresh_one_through(security_user, rf):
    calls = []

    @step_up_required(purpose="bulk.start")
    def start_job(request):  # a bulk job's start view, for instance
        calls.append(request.POST.get("job"))
        return HttpResponse("started")

    client = sign_in_with_second_factor(Client(), security_user)
    step_up_with_totp(client, security_user)
    request = rf.post("/bulk/new/", {"job": "j1"})
    request.user = security_user
    request.session = client.session
    assert start_job(request).content == b"started"
    assert calls == ["j1"]
    get = rf.get("/bulk/new/")
    get.user, get.session = security_user, client.session
    assert start_job(get).status_code == 200  # a GET never needs it


def test_changing_roles_in_the_admin_asks_for_a_step_up_then_saves_the_form(django_user_model, support_user):
    boss = django_user_model.objects.create_superuser("boss", password="pw-for-the-boss-123")
    give_totp(boss)
    client = sign_in_with_second_factor(Client(), boss)
    change = f"/admin/auth/user/{support_user.pk}/change/"
    form = client.get(change).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("groups", "user_permissions")}
    data.update(
        username=support_user.username,
        groups=[str(Group.objects.get(name="Security").pk)],
        date_joined_0=support_user.date_joined.strftime("%Y-%m-%d"),
        date_joined_1=support_user.date_joined.strftime("%H:%M:%S"),
        is_active="on",
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data.pop("password", None)
    response = client.post(change, data)
    assert response.status_code == 302
    assert response["Location"].startswith("/account/reauthenticate/?next=")
    assert list(support_user.groups.values_list("name", flat=True)) == ["Support"]  # not yet
    replayed = client.post(response["Location"], {"code": totp_code(SECRET)})
    assert replayed.status_code == 302 and replayed["Location"] == "/admin/auth/user/"
    assert list(support_user.groups.values_list("name", flat=True)) == ["Security"]
    assert AuditEvent.objects.filter(action="staff.step_up", outcome="denied").get().details["for"] == "staff.roles"


def test_deleting_a_staff_second_factor_in_the_admin_needs_a_step_up(django_user_model, support_user):
    boss = django_user_model.objects.create_superuser("boss", password="pw-for-the-boss-123")
    give_totp(boss)
    lost = give_totp(support_user)
    client = sign_in_with_second_factor(Client(), boss)
    response = client.post(f"/admin/mfa/authenticator/{lost.pk}/delete/", {"post": "yes"})
    assert response["Location"].startswith("/account/reauthenticate/")
    assert Authenticator.objects.filter(pk=lost.pk).exists()
    client.post(response["Location"], {"code": totp_code(SECRET)})
    assert not Authenticator.objects.filter(pk=lost.pk).exists()


def test_an_htmx_request_is_sent_to_the_check_and_back_to_its_page(security_user, rf):
    @step_up_required(purpose="bulk.approve")
    def approve(request):
        return HttpResponse("approved")

    give_totp(security_user)
    client = sign_in_with_second_factor(Client(), security_user)
    request = rf.post("/bulk/7/approve/", headers={**HTMX, "HX-Current-URL": "http://testserver/bulk/7/?tab=rows"})
    request.user, request.session = security_user, client.session
    request.htmx = HtmxDetails(request)
    response = approve(request)
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/account/reauthenticate/?next=%2Fbulk%2F7%2F%3Ftab%3Drows"
