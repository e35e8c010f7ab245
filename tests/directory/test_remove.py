"""Remove: confirmation dialog with a signed single-use token, lockout guard, override, already-gone, refusals."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import signing
from django.urls import reverse

from adminpanel.directory import confirmations
from tests.helpers import HTMX, events, make_user, on_each_request, outcomes, step_up_with_totp

pytestmark = pytest.mark.django_db


def remove_url(user_id: str, authenticator_id: str) -> str:
    return reverse("users:remove", args=[user_id, authenticator_id])


def open_dialog(client, user_id, authenticator_id, htmx=True):  # type: ignore[no-untyped-def]
    response = client.get(remove_url(user_id, authenticator_id), headers=HTMX if htmx else {})
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    return response, (match.group(1) if match else "")


def confirm(client, user_id, authenticator_id, token, htmx=True, **data):  # type: ignore[no-untyped-def]
    payload = {"token": token, "reason": "Lost phone", "ticket": "SUP-9", **data}
    return client.post(remove_url(user_id, authenticator_id), payload, headers=HTMX if htmx else {})


def test_the_dialog_says_what_will_be_removed_and_what_remains(support_client, emulator):
    sms, passkey = make_user("u", sms=("+14155550100",), passkeys=("iPhone",))
    response, token = open_dialog(support_client, "u", sms.user_authenticator_id)
    html = response.content.decode()
    assert response.status_code == 200 and "<dialog" in html
    assert "Remove SMS +1 ••• ••• 0100?" in html
    assert "What will remain (1)" in html and "Passkey &#x27;iPhone&#x27;" in html
    assert token


def test_the_plain_confirmation_page_works_without_htmx(support_client, emulator):
    sms, _ = make_user("u", sms=("+14155550100", "+14155550101"))
    response, token = open_dialog(support_client, "u", sms.user_authenticator_id, htmx=False)
    assert "<html" in response.content.decode()
    response = confirm(support_client, "u", sms.user_authenticator_id, token, htmx=False)
    assert response.status_code == 302
    page = support_client.get(response["Location"]).content.decode()
    assert "Removed SMS +1 ••• ••• 0100." in page


def test_remove_with_confirmation_and_audit(support_client, emulator):
    sms, passkey = make_user("u", sms=("+14155550100",), passkeys=("iPhone",))
    _, token = open_dialog(support_client, "u", sms.user_authenticator_id)
    response = confirm(support_client, "u", sms.user_authenticator_id, token)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="authenticators" aria-labelledby="auth-h" hx-swap-oob="true"' in html and "Removed SMS" in html
    from adminpanel.authsignal.connection import get_client

    assert [a.user_authenticator_id for a in get_client().get_authenticators("u")] == [passkey.user_authenticator_id]
    assert outcomes("authenticator.remove") == ["requested", "succeeded"]
    done = events("authenticator.remove")[-1]
    assert done.reason == "Lost phone" and done.ticket == "SUP-9" and done.verification_method == "SMS"
    assert len(done.details["before"]) == 2 and len(done.details["after"]) == 1


def test_removing_the_last_authenticator_is_refused_for_support(support_client, support_user, emulator):
    (only,) = make_user("bob", sms=("+447700900123",))
    response, token = open_dialog(support_client, "bob", only.user_authenticator_id)
    html = response.content.decode()
    assert "Removal will be refused" in html and "<form" not in html  # nothing to press
    # A dialog opened while two remained, confirmed after the other went: the POST is refused.
    token = confirmations.issue(support_user.pk, "bob", only.user_authenticator_id)
    response = confirm(support_client, "bob", only.user_authenticator_id, token, override_lockout="on")
    assert response.status_code == 403
    assert "may not override" in response.content.decode()
    token = confirmations.issue(support_user.pk, "bob", only.user_authenticator_id)
    response = confirm(support_client, "bob", only.user_authenticator_id, token)
    assert response.status_code == 409
    assert "only way to sign in" in response.content.decode()
    assert outcomes("authenticator.remove") == ["denied"]
    assert outcomes("lockout.override") == ["denied"]
    from adminpanel.authsignal.connection import get_client

    assert len(get_client().get_authenticators("bob")) == 1


def test_security_may_override_the_lockout_with_reason_and_ticket(security_client, security_user, emulator):
    (only,) = make_user("bob", sms=("+447700900123",))
    step_up_with_totp(security_client, security_user)  # an override needs a fresh second factor
    response, token = open_dialog(security_client, "bob", only.user_authenticator_id)
    assert "override the guard" in response.content.decode()
    response = confirm(security_client, "bob", only.user_authenticator_id, token, override_lockout="on", ticket="")
    assert response.status_code == 422 and "An override needs a reason and a ticket." in response.content.decode()
    assert outcomes("lockout.override") == ["denied"]  # the refusal is recorded, and the same token still works
    response = confirm(security_client, "bob", only.user_authenticator_id, token, override_lockout="on", ticket="SEC-7")
    assert response.status_code == 200
    assert "Lockout guard overridden" in response.content.decode()
    assert outcomes("lockout.override") == ["denied", "requested", "succeeded"]
    assert outcomes("authenticator.remove") == ["requested", "succeeded"]
    assert events("authenticator.remove")[-1].details["lockout_override"] is True


def test_already_gone_upstream_is_said_and_audited(support_client, emulator):
    sms, other = make_user("u", sms=("+14155550100", "+14155550101"))
    _, token = open_dialog(support_client, "u", sms.user_authenticator_id)
    from adminpanel.authsignal.connection import get_client

    get_client().delete_authenticator("u", sms.user_authenticator_id)  # another agent, elsewhere
    response = confirm(support_client, "u", sms.user_authenticator_id, token)
    assert response.status_code == 200
    assert "already gone" in response.content.decode()
    assert events("authenticator.remove")[-1].details["already_gone"] is True


@pytest.mark.parametrize(
    "problem", ["forged", "expired", "other_user", "other_authenticator", "other_staff", "missing"]
)
def test_bad_tokens_are_refused_with_zero_calls_to_authsignal(
    support_client, support_user, emulator, problem, monkeypatch
):
    a, b = make_user("u", sms=("+14155550100", "+14155550101"))
    make_user("v", sms=("+14155550102",))
    token = confirmations.issue(support_user.pk, "u", a.user_authenticator_id)
    if problem == "forged":
        token = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    elif problem == "expired":
        monkeypatch.setattr(confirmations, "MAX_AGE_SECONDS", -1)
    elif problem == "other_user":
        token = confirmations.issue(support_user.pk, "v", a.user_authenticator_id)
    elif problem == "other_authenticator":
        token = confirmations.issue(support_user.pk, "u", b.user_authenticator_id)
    elif problem == "other_staff":
        token = confirmations.issue(support_user.pk + 1000, "u", a.user_authenticator_id)
    elif problem == "missing":
        token = ""
    before = emulator.request_count
    response = confirm(support_client, "u", a.user_authenticator_id, token)
    assert response.status_code == 403
    assert "Open the removal dialog again" in response.content.decode()
    assert emulator.request_count == before
    assert outcomes("authenticator.remove") == ["denied"]


def test_a_replayed_token_is_refused_with_zero_calls(support_client, emulator):
    a, b, c = make_user("u", sms=("+14155550100", "+14155550101", "+14155550102"))
    _, token = open_dialog(support_client, "u", a.user_authenticator_id)
    assert confirm(support_client, "u", a.user_authenticator_id, token).status_code == 200
    before = emulator.request_count
    response = confirm(support_client, "u", a.user_authenticator_id, token)
    assert response.status_code == 403 and "already been used" in response.content.decode()
    assert emulator.request_count == before


def test_a_token_is_bound_by_signature_not_by_trust(support_user):
    token = confirmations.issue(support_user.pk, "u", "a")
    payload = signing.loads(token, salt=confirmations.SALT)
    assert payload["u"] == "u" and payload["a"] == "a" and payload["s"] == support_user.pk


def test_reason_is_required(support_client, emulator):
    a, _ = make_user("u", sms=("+14155550100", "+14155550101"))
    _, token = open_dialog(support_client, "u", a.user_authenticator_id)
    response = confirm(support_client, "u", a.user_authenticator_id, token, reason="")
    assert response.status_code == 422 and "This field is required" in response.content.decode()
    assert not events("authenticator.remove")


def test_the_auditor_role_cannot_remove(auditor_client, emulator):
    assert auditor_client.get(remove_url("u", "x")).status_code == 403
    assert auditor_client.post(remove_url("u", "x"), {"reason": "x"}).status_code == 403
    assert len(events("access.denied")) == 2 and emulator.request_count == 0


def test_upstream_failure_on_delete_is_failed_not_success(support_client, emulator):
    a, _ = make_user("u", sms=("+14155550100", "+14155550101"))
    _, token = open_dialog(support_client, "u", a.user_authenticator_id)
    emulator.set_faults(error_rate=1.0)
    response = confirm(support_client, "u", a.user_authenticator_id, token)
    assert response.status_code == 502
    html = response.content.decode()
    assert "Authsignal is having trouble" in html and "Removed" not in html
    assert outcomes("authenticator.remove") == ["failed"]


def test_a_delete_whose_answer_was_lost_is_retried_and_counted_as_done(support_client, emulator):
    from adminpanel.authsignal.connection import get_client

    a, b = make_user("u", sms=("+14155550100", "+14155550101"))
    _, token = open_dialog(support_client, "u", a.user_authenticator_id)
    deletes = []

    def lose_the_first_delete_answer(request) -> None:  # type: ignore[no-untyped-def]
        # The first DELETE is applied and its answer lost; the client's retry then finds it gone (404).
        if request.method == "DELETE":
            deletes.append(request)
            if len(deletes) == 1:
                emulator.set_faults(reset_rate=1.0, reset_after_apply=True)
            else:
                emulator.clear_faults()

    with on_each_request(lose_the_first_delete_answer):
        response = confirm(support_client, "u", a.user_authenticator_id, token)
        emulator.clear_faults()
    assert len(deletes) == 2
    assert response.status_code == 200
    assert "Removed SMS" in response.content.decode()
    assert outcomes("authenticator.remove") == ["requested", "succeeded"]
    assert [x.user_authenticator_id for x in get_client().get_authenticators("u")] == [b.user_authenticator_id]


def test_a_lost_delete_answer_followed_by_errors_is_settled_by_looking(support_client, emulator):
    from adminpanel.authsignal.connection import get_client

    a, b = make_user("u", sms=("+14155550100", "+14155550101"))
    _, token = open_dialog(support_client, "u", a.user_authenticator_id)
    deletes = []

    def first_applied_then_errors(request) -> None:  # type: ignore[no-untyped-def]
        if request.method == "DELETE":
            deletes.append(request)
            if len(deletes) == 1:
                emulator.set_faults(reset_rate=1.0, reset_after_apply=True)
            else:
                emulator.set_faults(error_rate=1.0)
        else:
            emulator.clear_faults()

    with on_each_request(first_applied_then_errors):
        response = confirm(support_client, "u", a.user_authenticator_id, token)
        emulator.clear_faults()
    assert response.status_code == 200 and "Removed SMS" in response.content.decode()
    assert outcomes("authenticator.remove") == ["requested", "succeeded"]
    assert events("authenticator.remove")[-1].details["settled_by_lookup"] is True
    assert [x.user_authenticator_id for x in get_client().get_authenticators("u")] == [b.user_authenticator_id]


def test_a_lost_lease_stops_the_removal_before_the_delete(support_client, emulator, monkeypatch):
    from adminpanel.directory import removal

    a, _ = make_user("u", sms=("+14155550100", "+14155550101"))
    _, token = open_dialog(support_client, "u", a.user_authenticator_id)
    monkeypatch.setattr(removal.HeldLock, "still_held", lambda self: False)
    deletes_before = emulator.request_count
    response = confirm(support_client, "u", a.user_authenticator_id, token)
    assert response.status_code == 409
    assert emulator.request_count == deletes_before + 1  # the fresh fetch, no DELETE
    assert outcomes("authenticator.remove") == ["requested", "failed"]


def test_support_asking_for_an_override_without_a_ticket_is_refused_and_recorded(
    support_client, support_user, emulator
):
    (only,) = make_user("bob", sms=("+447700900123",))
    token = confirmations.issue(support_user.pk, "bob", only.user_authenticator_id)
    response = confirm(support_client, "bob", only.user_authenticator_id, token, override_lockout="on", ticket="")
    assert response.status_code == 403
    assert events("lockout.override")[-1].details["refused"] == "permission"


def test_a_lease_taken_over_after_expiry_is_known_to_be_lost():
    """The lease (SQLite's lock; PostgreSQL uses a session advisory lock that cannot expire under its holder)."""
    from adminpanel.directory import locks
    from adminpanel.directory.models import UserLease

    with locks._lease("someone", wait=1.0) as held:
        assert held.still_held()
        UserLease.objects.all().delete()  # another worker removed it as expired
        assert not held.still_held()


def test_an_override_whose_delete_fails_is_recorded_as_failed_not_succeeded(security_client, security_user, emulator):
    """Write-ahead for the override too: `requested` before the DELETE, its real outcome after it."""
    from adminpanel.authsignal.connection import get_client

    (only,) = make_user("bob", sms=("+447700900123",))
    step_up_with_totp(security_client, security_user)
    _, token = open_dialog(security_client, "bob", only.user_authenticator_id)

    def every_delete_fails(request) -> None:  # type: ignore[no-untyped-def]
        if request.method == "DELETE":
            emulator.set_faults(error_rate=1.0)
        else:
            emulator.clear_faults()

    with on_each_request(every_delete_fails):
        response = confirm(security_client, "bob", only.user_authenticator_id, token, override_lockout="on")
        emulator.clear_faults()
    assert response.status_code == 502
    assert len(get_client().get_authenticators("bob")) == 1
    log = [(e.action, e.outcome) for e in events() if e.action in ("authenticator.remove", "lockout.override")]
    assert log == [
        ("authenticator.remove", "requested"),
        ("lockout.override", "requested"),
        ("authenticator.remove", "failed"),
        ("lockout.override", "failed"),
    ]
    assert len({e.correlation_id for e in events() if e.action in ("authenticator.remove", "lockout.override")}) == 1


def test_an_override_that_succeeds_is_requested_before_the_delete_and_succeeded_after(
    security_client, security_user, emulator
):

    (only,) = make_user("bob", sms=("+447700900123",))
    step_up_with_totp(security_client, security_user)
    _, token = open_dialog(security_client, "bob", only.user_authenticator_id)
    seen_at_delete: list[list[tuple[str, str]]] = []

    def look_at_the_log(request) -> None:  # type: ignore[no-untyped-def]
        if request.method == "DELETE":
            seen_at_delete.append([(e.action, e.outcome) for e in events() if e.action == "lockout.override"])

    with on_each_request(look_at_the_log):
        response = confirm(security_client, "bob", only.user_authenticator_id, token, override_lockout="on")
    assert response.status_code == 200
    assert seen_at_delete == [[("lockout.override", "requested")]]  # nothing claimed before the call answered
    assert outcomes("lockout.override") == ["requested", "succeeded"]


def test_recovery_codes_alone_are_not_a_way_to_keep_signing_in(support_client, support_user, emulator):
    emulator.seed(
        [
            {
                "userId": "rita",
                "authenticators": [
                    {"verificationMethod": "SMS", "phoneNumber": "+14155550131"},
                    {"verificationMethod": "RECOVERY_CODE"},
                ],
            }
        ]
    )
    from adminpanel.authsignal.connection import get_client

    sms = next(a for a in get_client().get_authenticators("rita") if a.verification_method == "SMS")
    response, token = open_dialog(support_client, "rita", sms.user_authenticator_id)
    html = response.content.decode()
    assert "Lockout guard" in html and "recovery codes only back up another method" in html
    assert "Removal will be refused" in html and not token
    token = confirmations.issue(support_user.pk, "rita", sms.user_authenticator_id)  # a dialog opened earlier
    response = confirm(support_client, "rita", sms.user_authenticator_id, token)
    assert response.status_code == 409
    assert "cannot sign in alone" in response.content.decode()
    assert outcomes("authenticator.remove") == ["denied"]
    assert len(get_client().get_authenticators("rita")) == 2


def test_one_of_two_passkeys_may_go(support_client, emulator):
    first, second = make_user("pat", passkeys=("Laptop", "Phone"))
    _, token = open_dialog(support_client, "pat", first.user_authenticator_id)
    assert confirm(support_client, "pat", first.user_authenticator_id, token).status_code == 200
    assert outcomes("authenticator.remove") == ["requested", "succeeded"]


def test_a_lockout_refusal_keeps_the_form_and_offers_security_the_override_right_there(
    security_client, security_user, emulator
):
    """It was a 409 with only Close; reopening lost the reason."""
    (only,) = make_user("bob", sms=("+447700900123",))
    step_up_with_totp(security_client, security_user)
    _, token = open_dialog(security_client, "bob", only.user_authenticator_id)
    response = confirm(security_client, "bob", only.user_authenticator_id, token, reason="SIM swap reported")
    html = response.content.decode()
    assert response.status_code == 409
    assert "only way to sign in" in html and "<form" in html
    assert "SIM swap reported" in html and 'value="SUP-9"' in html  # what was typed stays
    assert 'name="override_lockout"' in html
    fresh = re.search(r'name="token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert fresh != token  # the first confirmation was spent on the refusal; a new one comes with the form
    done = confirm(
        security_client, "bob", only.user_authenticator_id, fresh, reason="SIM swap reported", override_lockout="on"
    )
    assert done.status_code == 200 and "Lockout guard overridden" in done.content.decode()
    assert outcomes("authenticator.remove") == ["denied", "requested", "succeeded"]


def test_the_remove_fields_are_described_the_django_way(security_client, emulator):
    (only,) = make_user("bob", sms=("+447700900123",))
    _, token = open_dialog(security_client, "bob", only.user_authenticator_id)
    html = confirm(security_client, "bob", only.user_authenticator_id, token, reason="").content.decode()
    assert 'aria-describedby="id_reason_helptext id_reason_error"' in html
    assert 'id="id_reason_helptext"' in html and 'id="id_reason_error"' in html
    assert "novalidate" in html


def test_cleanup_forgets_spent_confirmations_once_they_have_expired_anyway(support_user, emulator):
    import io

    from django.core.management import call_command
    from django.utils import timezone

    from adminpanel.directory.models import SpentConfirmation, UserLease

    confirmations.spend("a" * 32)
    old = confirmations.spend("b" * 32) or SpentConfirmation.objects.get(nonce="b" * 32)
    SpentConfirmation.objects.filter(pk=old.pk).update(spent_at=timezone.now() - dt.timedelta(hours=1))
    UserLease.objects.create(key="k" * 64, owner="gone", expires_at=timezone.now() - dt.timedelta(minutes=1))
    out = io.StringIO()
    call_command("cleanup", stdout=out)
    assert list(SpentConfirmation.objects.values_list("nonce", flat=True)) == ["a" * 32]
    assert not UserLease.objects.exists()
    assert "1 spent confirmations and 1 expired leases forgotten" in out.getvalue()
