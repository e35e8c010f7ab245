"""No log line carries a full email, phone number or user id: the whole support journey, in production mode."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

import pytest

from adminpanel.authsignal.client import AuthsignalClient
from adminpanel.authsignal.emulator import EmulatorApp, EmulatorStore
from adminpanel.authsignal.emulator.server import running_server
from adminpanel.core.log_privacy import MaskPersonalData, mask_log_text
from tests.helpers import production_env, running_dashboard

KEY = "sk_test_logs"
USER_ID = "sentinel-user-4242"
EMAIL = "leaky.sentinel@example.org"
PHONE = "+14155550177"
NEW_PHONE = "+14155550188"
ID_EMAIL = "id.sentinel@example.net"  # a tenant that uses the email as the user id

SENTINELS = [
    USER_ID,
    EMAIL,
    PHONE,
    NEW_PHONE,
    ID_EMAIL,
    # …and the ways they travel in URLs and forms
    quote(EMAIL, safe=""),
    quote(PHONE, safe=""),
    quote(NEW_PHONE, safe=""),
    quote(ID_EMAIL, safe=""),
    PHONE[2:],
    NEW_PHONE[2:],
]


@pytest.mark.django_db(transaction=True)
def test_the_support_journey_leaves_no_contact_or_user_id_in_any_log_line(audit_log_flushable, security_user, tmp_path):
    with running_server(EmulatorApp(EmulatorStore(":memory:"), KEY)) as server:
        upstream = AuthsignalClient(base_url=server.base_url, secret_key=KEY)
        upstream.update_user(USER_ID, email=EMAIL, phone_number=PHONE, username="sentinel")
        upstream.enroll_verified_authenticator(USER_ID, verification_method="SMS", phone_number=PHONE)
        upstream.enroll_verified_authenticator(USER_ID, verification_method="EMAIL_OTP", email=EMAIL)
        upstream.update_user(ID_EMAIL, email=ID_EMAIL)
        upstream.enroll_verified_authenticator(ID_EMAIL, verification_method="EMAIL_OTP", email=ID_EMAIL)
        env = production_env(AUTHSIGNAL_SECRET_KEY=KEY, AUTHSIGNAL_API_URL=server.base_url, LOG_LEVEL="INFO")
        with running_dashboard(env, tmp_path) as dashboard:
            staff = dashboard.client_for(security_user)
            user_page = f"/users/{USER_ID}/"
            for query in (EMAIL, PHONE, "(415) 555-0177", ID_EMAIL, USER_ID):
                assert staff.get("/users/", params={"q": query}).status_code == 200
            assert staff.get(user_page).status_code == 200
            assert staff.get(f"/users/{ID_EMAIL}/").status_code == 200
            for field in ("email", "phone_number"):
                revealed = staff.post(f"{user_page}reveal/", {"field": field}, headers={"HX-Request": "true"})
                assert revealed.status_code == 200
            enrolled = staff.post(
                f"{user_page}authenticators/enroll/",
                {"method": "SMS", "phone_number": NEW_PHONE, "verified": "on", "reason": "Caller verified"},
            )
            assert enrolled.status_code == 302, enrolled.text
            new = next(a for a in upstream.get_authenticators(USER_ID) if a.phone_number == NEW_PHONE)
            remove_path = f"{user_page}authenticators/{new.user_authenticator_id}/remove/"
            token = re.search(r'name="token" value="([^"]+)"', staff.get(remove_path).text).group(1)  # type: ignore[union-attr]
            removed = staff.post(remove_path, {"token": token, "reason": "Caller asked"})
            assert removed.status_code == 302
            # Warnings carry paths too: a wrong method, an unknown page under a user.
            assert staff.get(f"/users/{ID_EMAIL}/reveal/").status_code == 405
            assert staff.get(f"/users/{EMAIL}/nothing-here/").status_code == 404
            # …and Authsignal failing makes the client log its retries.
            server.app.set_faults(error_rate=1.0)
            assert staff.get(f"/users/{EMAIL}/").status_code == 502
            server.app.clear_faults()
        upstream.close()
        log = dashboard.log()

    # The test proves something only if every source did log: gunicorn's access log, Django, httpx, our client.
    assert re.search(r'"GET /users/\?q=[^"]+ HTTP/1\.1" 200', log), log[-3000:]
    assert "HTTP Request: GET http://127.0.0.1" in log  # httpx
    assert "Method Not Allowed" in log and "Not Found: /users/" in log  # django.request warnings
    assert "retry" in log  # our client
    leaked = [s for s in SENTINELS if s in log]
    assert not leaked, "\n".join(line for line in log.splitlines() if any(s in line for s in leaked))[:3000]


def test_the_filter_masks_what_each_source_writes():
    cases = {
        'GET /users/?q=alice%40example.com HTTP/1.1" 200': "alice%40example.com",
        "HTTP Request: GET https://api.authsignal.com/v1/users?phoneNumber=%2B14155550101&limit=25": "4155550101",
        "Not Found: /users/alice@example.com/reveal/": "alice@example.com",
        "GET https://api.authsignal.com/v1/users/usr_9f8e7d6c5b/authenticators": "usr_9f8e7d6c5b",
        "/users/team~2Fops~2F7/": "team",
        "caller gave +44 7700 900123 on the phone": "7700 900123",
        "/audit/?user=alice.user.id&action=user.view": "alice.user.id",
    }
    for text, secret in cases.items():
        assert secret not in mask_log_text(text), text
    assert mask_log_text("/audit/?action=user.view&limit=10") == "/audit/?action=user.view&limit=10"
    assert mask_log_text("Authsignal GET /users/{userId}: retry 1") == "Authsignal GET /users/{userId}: retry 1"


def test_the_filter_masks_arguments_and_tracebacks():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed for %s", ("bob@example.com",), None)
    try:
        raise ValueError("url /users/bob@example.com/")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert MaskPersonalData().filter(record)
    formatted = logging.Formatter().format(record)
    assert "bob@example.com" not in formatted and "failed for b***b@e***e.com" in formatted
