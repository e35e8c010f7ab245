"""The second factor: required before any page opens, registered as an authenticator app, used to sign in,
recovery codes that work once; every route answers as before once it is done."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.test import Client

from adminpanel.audit.models import AuditEvent
from tests.helpers import (
    SECRET,
    give_totp,
    sign_in_password,
    sign_in_with_second_factor,
    totp_code,
)

pytestmark = pytest.mark.django_db


def actions(**filters) -> list[tuple[str, str]]:
    return list(AuditEvent.objects.filter(**filters).order_by("seq").values_list("action", "outcome"))


def test_until_a_second_factor_is_registered_only_its_page_opens(client, support_user, mfa_required):
    response = sign_in_password(client, "sam.support")
    assert response.status_code == 302
    for path in ("/", "/users/", "/audit/", "/users/alice/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == "/account/", path
    htmx = client.get("/users/", headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == "/account/"
    page = client.get("/account/")
    assert page.status_code == 200
    assert "Register a second factor to continue" in page.content.decode()
    assert client.get("/account/totp/activate/").status_code == 200
    assert client.get("/account/webauthn/add/").status_code == 200
    assert client.post("/logout/").status_code == 302
    assert client.get("/users/")["Location"].startswith("/login/")


@pytest.mark.django_db(transaction=True)  # allauth announces the new factor on commit, inside the request
def test_registering_an_authenticator_app_opens_the_dashboard(client, support_user, mfa_required, audit_log_flushable):
    sign_in_password(client, "sam.support")
    page = client.get("/account/totp/activate/")
    secret = page.context["form"].secret
    assert secret in page.content.decode()  # shown for typing in, next to the QR code
    assert client.post("/account/totp/activate/", {"code": "000000" if totp_code(secret) != "000000" else "111111"})
    assert not Authenticator.objects.filter(user=support_user).exists()
    response = client.post("/account/totp/activate/", {"code": totp_code(secret)})
    assert response.status_code == 302
    assert response["Location"] == "/account/recovery-codes/"
    codes_page = client.get("/account/recovery-codes/")
    assert codes_page.status_code == 200  # no second check needed right after registering
    assert len(codes_page.context["unused_codes"]) == 10
    assert client.get("/users/").status_code == 200
    added = AuditEvent.objects.filter(action="staff.second_factor.add").order_by("seq")
    assert [e.details["type"] for e in added] == ["totp", "recovery_codes"]
    assert all(e.actor_username == "sam.support" and e.outcome == "succeeded" for e in added)
    everything = str(list(AuditEvent.objects.values_list("details", flat=True)))
    assert secret not in everything and totp_code(secret) not in everything


def test_signing_in_takes_the_password_then_an_app_code(support_user, mfa_required):
    give_totp(support_user)
    client = Client()
    response = sign_in_password(client, "sam.support")
    assert response["Location"] == "/account/authenticate/"
    assert client.get("/users/")["Location"].startswith("/login/")  # not signed in yet
    wrong = client.post("/account/authenticate/", {"code": "12345"})
    assert wrong.status_code == 200
    assert "Incorrect code." in wrong.content.decode()
    response = client.post("/account/authenticate/", {"code": totp_code(SECRET)})
    assert response.status_code == 302
    assert client.get("/users/").status_code == 200
    assert actions(actor_username="sam.support") == [
        ("staff.second_factor.use", "failed"),
        ("staff.second_factor.use", "succeeded"),
        ("staff.login", "succeeded"),
    ]
    event = AuditEvent.objects.get(action="staff.second_factor.use", outcome="succeeded")
    assert event.details["type"] == "totp" and event.actor_ip == "127.0.0.1"


def test_an_app_code_works_only_once(support_user):
    give_totp(support_user)
    code = totp_code(SECRET)
    first = Client()
    sign_in_password(first, "sam.support")
    assert first.post("/account/authenticate/", {"code": code}).status_code == 302
    second = Client()
    sign_in_password(second, "sam.support")
    replay = second.post("/account/authenticate/", {"code": code})
    assert replay.status_code == 200 and "Incorrect code." in replay.content.decode()


def test_a_recovery_code_signs_in_once_only(support_user, mfa_required):
    give_totp(support_user)
    codes = RecoveryCodes.activate(support_user).generate_codes()
    client = Client()
    sign_in_password(client, "sam.support")
    assert client.post("/account/authenticate/", {"code": codes[0]}).status_code == 302
    assert client.get("/users/").status_code == 200
    client.post("/logout/")
    sign_in_password(client, "sam.support")
    again = client.post("/account/authenticate/", {"code": codes[0]})
    assert again.status_code == 200 and "Incorrect code." in again.content.decode()
    assert client.post("/account/authenticate/", {"code": codes[1]}).status_code == 302
    used = AuditEvent.objects.filter(action="staff.recovery_code.use").order_by("seq")
    assert [(e.details["purpose"], e.details["unused_left"]) for e in used] == [("sign-in", 9), ("sign-in", 8)]
    assert not any(code in str(e.details) for e in AuditEvent.objects.all() for code in codes)


ROUTES = [
    "/",
    "/users/",
    "/users/alice/",
    "/users/alice/authenticators/enroll/",
    "/audit/",
    "/audit/export.csv",
    "/admin/",
    "/account/",
    "/no-such-page/",
]


@pytest.mark.parametrize("role", ["support_user", "security_user", "auditor_user", "no_role_user"])
def test_every_route_answers_as_before_once_the_second_factor_is_done(request, role, settings):
    user = request.getfixturevalue(role)
    settings.STAFF_MFA_REQUIRED = False
    before = Client()
    before.force_login(user)
    expected = {path: before.get(path).status_code for path in ROUTES}
    settings.STAFF_MFA_REQUIRED = True
    done = sign_in_with_second_factor(Client(), user)
    assert {path: done.get(path).status_code for path in ROUTES} == expected
    not_done = Client()
    not_done.force_login(user)
    answers = {path: not_done.get(path) for path in ROUTES}
    assert {p: (r.status_code, r.get("Location")) for p, r in answers.items() if p != "/account/"} == {
        p: (302, "/account/") for p in ROUTES if p != "/account/"
    }


def test_with_the_requirement_off_the_menu_offers_adding_a_second_factor(client, support_user):
    client.force_login(support_user)
    assert ">Add a second factor<" in client.get("/users/").content.decode()
    give_totp(support_user)
    page = client.get("/users/").content.decode()
    assert ">Second factors<" in page and ">Add a second factor<" not in page


def test_a_staff_passkey_is_not_an_authsignal_authenticator(client, support_user):
    client.force_login(support_user)
    page = client.get("/account/").content.decode()
    assert "nothing to do with the end-users' Authsignal authenticators" in page


@pytest.mark.django_db(transaction=True)  # allauth announces new recovery codes on commit, inside the request
def test_removing_a_factor_and_renewing_recovery_codes_are_recorded(support_user, audit_log_flushable):
    give_totp(support_user)
    RecoveryCodes.activate(support_user)
    client = sign_in_with_second_factor(Client(), support_user)  # a factor passed just now: no extra check
    assert client.post("/account/recovery-codes/generate/").status_code == 302
    assert client.post("/account/totp/deactivate/").status_code == 302
    assert not Authenticator.objects.filter(user=support_user).exists()  # the codes went with the last factor
    factor_events = AuditEvent.objects.filter(action__startswith="staff.second_factor.").order_by("seq")
    assert [(e.action, e.details["type"]) for e in factor_events] == [
        ("staff.second_factor.reset", "recovery_codes"),
        ("staff.second_factor.remove", "totp"),
        ("staff.second_factor.remove", "recovery_codes"),
    ]


@pytest.mark.parametrize("answer", ['{"id": "forged"}', '{"rawId": 7}', "[1, 2]", '"text"'])
def test_a_malformed_passkey_answer_is_refused_not_a_server_error(support_user, answer):
    give_totp(support_user)
    client = Client()
    sign_in_password(client, "sam.support")
    response = client.post("/account/authenticate/", {"credential": answer})
    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert client.get("/users/")["Location"].startswith("/login/")
    assert AuditEvent.objects.get(action="staff.second_factor.use", outcome="failed").details == {"type": "webauthn"}
    signed_in = sign_in_with_second_factor(Client(), support_user)
    added = signed_in.post("/account/webauthn/add/", {"name": "Forged", "credential": answer})
    assert added.status_code == 200 and "Incorrect code." in added.content.decode()
    assert not Authenticator.objects.filter(user=support_user, type=Authenticator.Type.WEBAUTHN).exists()
