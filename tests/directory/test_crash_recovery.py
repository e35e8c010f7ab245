"""A web worker SIGKILLed while its DELETE is in flight: `audit reconcile` settles every open action afterwards."""

from __future__ import annotations

import re
import threading
from typing import Any

import httpx
import pytest
from django.core.management import call_command

from adminpanel.audit.chain import verify_chain
from adminpanel.audit.models import AuditEvent
from adminpanel.authsignal import connection
from adminpanel.authsignal.client import AuthsignalClient
from adminpanel.authsignal.emulator import EmulatorApp, EmulatorStore
from adminpanel.authsignal.emulator.server import running_server
from tests.helpers import SECRET, give_totp, production_env, running_dashboard, totp_code

KEY = "sk_test_crash"


class AppliesThenStalls:
    """The emulator, except that a DELETE is applied and then its answer is held back until released."""

    def __init__(self, app: EmulatorApp) -> None:
        self.app = app
        self.applied = threading.Event()
        self.release = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        answer = self.app(environ, start_response)
        if environ["REQUEST_METHOD"] == "DELETE" and "/authenticators/" in environ["PATH_INFO"]:
            self.applied.set()
            self.release.wait(60)
        return answer


@pytest.mark.django_db(transaction=True)
def test_an_override_killed_mid_delete_is_settled_by_reconcile(audit_log_flushable, security_user, tmp_path, settings):
    emulator = AppliesThenStalls(EmulatorApp(EmulatorStore(":memory:"), KEY))
    with running_server(emulator) as server:  # type: ignore[arg-type]
        upstream = AuthsignalClient(base_url=server.base_url, secret_key=KEY)
        only = upstream.enroll_verified_authenticator("bob", verification_method="SMS", phone_number="+447700900123")
        authenticator_id = only.authenticator.user_authenticator_id
        env = production_env(
            AUTHSIGNAL_SECRET_KEY=KEY,
            AUTHSIGNAL_API_URL=server.base_url,
            AUTHSIGNAL_READ_TIMEOUT="60",
            AUTHSIGNAL_RETRY_ATTEMPTS="1",
        )
        give_totp(security_user)
        with running_dashboard(env, tmp_path) as dashboard:
            staff = dashboard.client_for(security_user)
            staff.get("/account/reauthenticate/")  # an override asks for a fresh second factor first
            stepped_up = staff.post("/account/reauthenticate/", {"code": totp_code(SECRET)})
            assert stepped_up.status_code == 302, dashboard.log()[-4000:]
            remove_path = f"/users/bob/authenticators/{authenticator_id}/remove/"
            dialog = staff.get(remove_path)
            assert dialog.status_code == 200, dialog.text
            token = re.search(r'name="token" value="([^"]+)"', dialog.text).group(1)  # type: ignore[union-attr]
            answers: list[object] = []

            def confirm() -> None:
                try:
                    answers.append(
                        staff.post(
                            remove_path,
                            {"token": token, "reason": "Phone stolen", "ticket": "SEC-1", "override_lockout": "on"},
                        )
                    )
                except httpx.HTTPError as exc:
                    answers.append(exc)

            thread = threading.Thread(target=confirm)
            thread.start()
            assert emulator.applied.wait(30), dashboard.log()
            dashboard.kill()  # the worker dies with Authsignal's answer still on its way
            emulator.release.set()
            thread.join(10)
            assert answers and isinstance(answers[0], httpx.HTTPError)

        open_rows = [(e.action, e.outcome) for e in AuditEvent.objects.filter(user_id="bob").order_by("seq")]
        assert ("authenticator.remove", "requested") in open_rows and ("lockout.override", "requested") in open_rows
        assert not [row for row in open_rows if row[1] in ("succeeded", "failed")]
        assert upstream.get_authenticators("bob") == []  # Authsignal did apply it

        settings.AUTHSIGNAL_USE_EMULATOR = False
        settings.AUTHSIGNAL_SECRET_KEY = KEY
        settings.AUTHSIGNAL_API_URL = server.base_url
        connection.reset_client()
        call_command("audit", "reconcile", "--older-than", "0")
        upstream.close()

    settled = {
        (e.action, e.outcome)
        for e in AuditEvent.objects.filter(user_id="bob", details__reconciled=True).order_by("seq")
    }
    assert settled == {("authenticator.remove", "succeeded"), ("lockout.override", "succeeded")}
    requested = AuditEvent.objects.get(action="authenticator.remove", outcome="requested")
    assert AuditEvent.objects.filter(correlation_id=requested.correlation_id).count() == 4
    assert verify_chain().ok
