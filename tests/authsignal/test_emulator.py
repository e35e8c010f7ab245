"""The emulator beyond the wire contract: control routes, faults, persistence, seeding, routing, server."""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from adminpanel.authsignal.emulator import (
    DEMO_USERS,
    EmulatorApp,
    EmulatorStore,
    EmulatorTransport,
    FaultConfig,
    RateLimit,
    TokenBucket,
    running_server,
)
from adminpanel.authsignal.emulator.authenticators import passkey_providers
from adminpanel.authsignal.emulator.demo import ACTION_STATES, demo_users

KEY = "emulator-test-key"
REPO_ROOT = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(clock: FakeClock) -> Iterator[EmulatorApp]:
    store = EmulatorStore(":memory:")
    yield EmulatorApp(store, KEY, clock=clock, rng=random.Random(7))
    store.close()


@pytest.fixture
def client(app: EmulatorApp) -> Iterator[httpx.Client]:
    # Rooted at the host, not /v1, so the same client reaches the /_emulator/ control routes.
    with httpx.Client(
        transport=EmulatorTransport(app), base_url="http://emulator.test", auth=(KEY, ""), timeout=5
    ) as client:
        yield client


def sms(phone: str) -> dict[str, str]:
    return {"verificationMethod": "SMS", "phoneNumber": phone}


def call(app: EmulatorApp, method: str, environ_extra: dict[str, Any]) -> tuple[str, bytes]:
    """Call the WSGI app directly, as a host that sets only some of the path keys would."""
    import base64

    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "wsgi.input": io.BytesIO(b""),
        "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{KEY}:".encode()).decode(),
        **environ_extra,
    }
    seen: dict[str, str] = {}
    body = b"".join(app(environ, lambda status, headers, exc_info=None: seen.update(status=status)))
    return seen["status"], body


# --- control routes ---


def test_control_routes_need_the_secret_key(client: httpx.Client) -> None:
    response = client.post("/_emulator/reset", auth=("not-the-key", ""))
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_reset_empties_the_store_clears_faults_and_the_request_count(app: EmulatorApp, client: httpx.Client) -> None:
    client.post("/v1/users/bob/authenticators", json=sms("+447700900123"))
    client.put("/_emulator/faults", json={"latencyMs": 1})
    assert app.request_count == 1

    response = client.post("/_emulator/reset")
    assert response.json() == {"success": True}
    assert client.get("/v1/users/bob").json() == {"isEnrolled": False}
    assert client.get("/_emulator/faults").json()["latencyMs"] == 0
    assert app.request_count == 1  # the GET above; control routes are not counted


def test_seeding_the_demo_preset_over_http(client: httpx.Client) -> None:
    response = client.post("/_emulator/seed", json={"preset": "demo"})
    assert response.status_code == 200
    assert response.json() == {"success": True, "seededUsers": 300}
    bob = client.get("/v1/users/bob/authenticators").json()
    assert [(a["verificationMethod"], a["phoneNumber"]) for a in bob] == [("SMS", "+447700900123")]
    stats = client.get("/_emulator/stats").json()
    assert stats["users"] == 300
    assert stats["authenticators"] > 300


def test_seeding_custom_users_over_http_is_idempotent(client: httpx.Client) -> None:
    users = [
        {
            "userId": "seeded:1",
            "email": "seeded@example.com",
            "authenticators": [
                {"verificationMethod": "EMAIL_OTP", "email": "seeded@example.com"},
                {
                    "verificationMethod": "PASSKEY",
                    "name": "Work laptop",
                    "aaguid": "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
                },
                {"verificationMethod": "SMART_CARD"},  # unknown kinds can be seeded for display tests
            ],
            "actions": [{"actionCode": "signIn", "state": "CHALLENGE_SUCCEEDED"}],
        }
    ]
    assert client.post("/_emulator/seed", json={"users": users}).json()["seededUsers"] == 1
    client.post("/_emulator/seed", json={"users": users})

    listed = client.get("/v1/users/seeded%3A1/authenticators").json()
    assert [a["verificationMethod"] for a in listed] == ["EMAIL_OTP", "PASSKEY", "SMART_CARD"]
    credential = listed[1]["webauthnCredential"]
    assert credential["name"] == "Work laptop"
    assert credential["aaguidMapping"]["name"] == "Google Password Manager"
    assert credential["aaguidMapping"]["svgIconLight"].startswith("data:image/svg+xml;base64,")
    assert len(client.get("/v1/users/seeded%3A1/actions").json()) == 1


@pytest.mark.parametrize(
    "body",
    [{}, {"preset": "other"}, {"users": [{"email": "no-id@example.com"}]}, {"preset": "demo", "users": []}],
)
def test_seeding_refuses_bad_bodies(client: httpx.Client, body: dict[str, Any]) -> None:
    response = client.post("/_emulator/seed", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_faults_can_be_read_replaced_and_cleared(client: httpx.Client) -> None:
    wanted = {
        "latencyMs": 5,
        "errorRate": 0.25,
        "hangRate": 0.0,
        "resetRate": 0.1,
        "resetAfterApply": True,
        "rateLimit": {"ratePerSecond": 2.5, "burst": 3},
    }
    assert client.put("/_emulator/faults", json=wanted).json() == wanted
    assert client.get("/_emulator/faults").json() == wanted
    # PUT replaces the whole configuration: what is not sent goes back to its default.
    assert client.put("/_emulator/faults", json={"errorRate": 1}).json()["rateLimit"] is None
    cleared = client.delete("/_emulator/faults").json()
    assert cleared == FaultConfig().to_json()


@pytest.mark.parametrize(
    "body",
    [
        {"errorRate": 1.5},
        {"hangRate": -0.1},
        {"latencyMs": "slow"},
        {"resetAfterApply": "yes"},
        {"rateLimit": {"ratePerSecond": 0, "burst": 1}},
        {"rateLimit": {"ratePerSecond": 1}},
        {"errorrate": 0.5},
        [],
    ],
)
def test_bad_fault_settings_are_refused(client: httpx.Client, body: Any) -> None:
    response = client.put("/_emulator/faults", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_unknown_control_route_and_wrong_method(client: httpx.Client) -> None:
    assert client.get("/_emulator/nothing").status_code == 404
    response = client.get("/_emulator/reset")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"] == "method_not_allowed"


def test_the_python_control_surface(app: EmulatorApp, client: httpx.Client) -> None:
    assert app.seed([{"userId": "py", "authenticators": [sms("+14155550100")]}]) == 1
    app.set_faults(error_rate=1.0)
    assert client.get("/v1/users/py").status_code == 500
    app.clear_faults()
    assert client.get("/v1/users/py").json()["isEnrolled"] is True
    assert app.request_count == 2
    app.reset()
    assert app.request_count == 0
    assert app.seed_demo() == 300


# --- faults ---


def test_an_injected_500_has_an_error_body_and_applies_nothing(app: EmulatorApp, client: httpx.Client) -> None:
    app.set_faults(error_rate=1.0)
    response = client.patch("/v1/users/u1", json={"email": "u1@example.com"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()) == {"error", "errorCode", "errorDescription"}
    app.clear_faults()
    assert client.get("/v1/users/u1").json() == {"isEnrolled": False}


def test_control_routes_are_never_faulted(app: EmulatorApp, client: httpx.Client) -> None:
    app.set_faults(error_rate=1.0, reset_rate=1.0)
    assert client.get("/_emulator/faults").status_code == 200
    assert client.delete("/_emulator/faults").status_code == 200
    assert client.get("/v1/users/u1").status_code == 200


def test_latency_delays_every_answer(app: EmulatorApp, client: httpx.Client) -> None:
    app.set_faults(latency_ms=30)
    started = time.monotonic()
    assert client.get("/v1/users/u1").status_code == 200
    assert time.monotonic() - started >= 0.03


def test_latency_beyond_the_read_timeout_times_out_but_the_change_is_applied(
    app: EmulatorApp, client: httpx.Client
) -> None:
    app.set_faults(latency_ms=5_000)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.patch("/v1/users/slow", json={"email": "slow@example.com"}, timeout=httpx.Timeout(5, read=0.05))
    assert time.monotonic() - started < 1
    app.clear_faults()
    assert client.get("/v1/users/slow").json()["email"] == "slow@example.com"


def test_a_hang_lasts_until_the_clients_read_timeout(app: EmulatorApp, client: httpx.Client) -> None:
    app.set_faults(hang_rate=1.0)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.patch("/v1/users/hung", json={"email": "hung@example.com"}, timeout=httpx.Timeout(5, read=0.05))
    assert 0.05 <= time.monotonic() - started < 1
    app.clear_faults()
    assert client.get("/v1/users/hung").json() == {"isEnrolled": False}


def test_a_reset_before_apply_is_a_connect_error_and_applies_nothing(app: EmulatorApp, client: httpx.Client) -> None:
    app.set_faults(reset_rate=1.0)
    with pytest.raises(httpx.ConnectError):
        client.post("/v1/users/r1/authenticators", json=sms("+14155550101"))
    app.clear_faults()
    assert client.get("/v1/users/r1/authenticators").json() == []


def test_a_reset_after_apply_loses_the_answer_but_keeps_the_change(app: EmulatorApp, client: httpx.Client) -> None:
    app.set_faults(reset_rate=1.0, reset_after_apply=True)
    with pytest.raises(httpx.ReadError):
        client.post("/v1/users/r2/authenticators", json=sms("+14155550102"))
    app.clear_faults()
    assert len(client.get("/v1/users/r2/authenticators").json()) == 1


def test_the_rate_limit_answers_429_with_retry_after(app: EmulatorApp, client: httpx.Client, clock: FakeClock) -> None:
    app.set_faults(rate_limit=RateLimit(rate_per_second=2, burst=2))
    assert [client.get("/v1/users/x").status_code for _ in range(2)] == [200, 200]
    throttled = client.get("/v1/users/x")
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "1"
    assert throttled.json()["error"] == "too_many_requests"
    assert throttled.json()["errorCode"] == "too_many_requests"

    clock.advance(0.5)  # one token back at 2/s
    assert client.get("/v1/users/x").status_code == 200
    assert client.get("/v1/users/x").status_code == 429

    app.set_faults(rate_limit=(0.25, 1))  # a new limit starts with a full bucket
    assert client.get("/v1/users/x").status_code == 200
    assert client.get("/v1/users/x").headers["retry-after"] == "4"


def test_fault_rates_are_probabilities_per_request(app: EmulatorApp, client: httpx.Client) -> None:
    app.set_faults(error_rate=0.5)
    statuses = [client.get("/v1/users/x").status_code for _ in range(200)]
    assert 60 < statuses.count(500) < 140
    assert statuses.count(500) + statuses.count(200) == 200


def test_the_token_bucket_refills_with_time() -> None:
    clock = FakeClock()
    bucket = TokenBucket(RateLimit(rate_per_second=1, burst=3), clock)
    assert [bucket.take() for _ in range(3)] == [None, None, None]
    assert bucket.take() == pytest.approx(1.0)
    clock.advance(0.5)
    assert bucket.take() == pytest.approx(0.5)
    clock.advance(0.5)
    assert bucket.take() is None
    clock.advance(100)  # never more than the burst
    assert [bucket.take() for _ in range(4)][-1] is not None


def test_fault_config_validates_and_round_trips() -> None:
    config = FaultConfig.from_json({"latencyMs": 3, "rateLimit": {"ratePerSecond": 5, "burst": 10}})
    assert config.rate_limit == RateLimit(5, 10)
    assert FaultConfig.from_json(config.to_json()) == config
    with pytest.raises(ValueError, match="errorRate"):
        FaultConfig(error_rate=2)


def test_concurrent_identical_enrolments_create_one_authenticator(app: EmulatorApp, client: httpx.Client) -> None:
    def enroll(_: int) -> str:
        response = client.post("/v1/users/racer/authenticators", json=sms("+14155550160"))
        return response.json()["authenticator"]["userAuthenticatorId"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(enroll, range(16)))
    assert len(ids) == 1
    assert len(client.get("/v1/users/racer/authenticators").json()) == 1


def test_the_emulator_package_does_not_import_django() -> None:
    code = "import sys, adminpanel.authsignal.emulator; sys.exit('django' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=False).returncode == 0


# --- persistence ---


def test_data_survives_a_restart_with_a_file_store(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "emulator.sqlite3"
    first = EmulatorStore(path)
    with httpx.Client(
        transport=EmulatorTransport(EmulatorApp(first, KEY)), base_url="http://e/v1", auth=(KEY, "")
    ) as client:
        enrolled = client.post("/users/kept/authenticators", json=sms("+14155550109")).json()["authenticator"]
    first.close()

    second = EmulatorStore(path)
    with httpx.Client(
        transport=EmulatorTransport(EmulatorApp(second, KEY)), base_url="http://e/v1", auth=(KEY, "")
    ) as client:
        assert client.get("/users/kept/authenticators").json() == [enrolled]
        assert client.get("/users/kept").json()["isEnrolled"] is True
    second.close()


# --- the demo seed ---


def test_the_demo_seed_is_deterministic() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert demo_users(now) == demo_users(now)
    later = demo_users(now + timedelta(days=3))
    assert [u["userId"] for u in later] == [u["userId"] for u in demo_users(now)]


def test_the_documented_demo_users(app: EmulatorApp, client: httpx.Client) -> None:
    app.seed_demo()
    for user_id in DEMO_USERS:
        enrolled = client.get(f"/v1/users/{quote(user_id, safe='')}").json()["isEnrolled"]
        assert enrolled is (user_id != "dave"), user_id

    alice = client.get("/v1/users/alice%40example.com/authenticators").json()
    assert [a["verificationMethod"] for a in alice] == ["SMS", "PASSKEY", "EMAIL_OTP"]
    assert alice[0]["phoneNumber"] == "+14155550101"
    assert alice[1]["webauthnCredential"]["name"] == "iPhone"
    assert alice[1]["webauthnCredential"]["aaguidMapping"]["name"] == "iCloud Keychain"
    assert alice[2]["email"] == "alice@example.com"
    assert client.get("/v1/users/alice%40example.com").json()["email"] == "alice@example.com"

    bob = client.get("/v1/users/bob/authenticators").json()
    assert [(a["verificationMethod"], a.get("phoneNumber")) for a in bob] == [("SMS", "+447700900123")]
    carol = client.get("/v1/users/carol/authenticators").json()
    assert [a["verificationMethod"] for a in carol] == ["PASSKEY", "PASSKEY"]
    assert client.get("/v1/users/dave/authenticators").json() == []
    dave = client.get("/v1/users/dave").json()
    assert dave["isEnrolled"] is False
    assert dave["email"] == "dave@example.com"
    assert client.get("/v1/users/%C3%A6r%C3%B8sk%C3%B8bing%3A42").json()["isEnrolled"] is True
    assert client.get("/v1/users/team%2Fops%2F7").json()["isEnrolled"] is True


def test_the_demo_seed_is_varied(app: EmulatorApp) -> None:
    users = demo_users(datetime(2026, 1, 1, tzinfo=UTC))
    assert len(users) == 300
    counts = [len(u["authenticators"]) for u in users]
    assert counts.count(0) >= 20
    assert counts.count(1) >= 60

    def kinds(user: dict[str, Any]) -> list[str]:
        return [a["verificationMethod"] for a in user["authenticators"]]

    assert any(kinds(u).count("PASSKEY") >= 2 for u in users[12:])
    assert any(kinds(u).count("SMS") >= 2 for u in users[12:])
    providers = {
        a["webauthnCredential"]["aaguidMapping"]["name"]
        for u in users
        for a in u["authenticators"]
        if "webauthnCredential" in a
    }
    assert {"iCloud Keychain", "Google Password Manager", "YubiKey 5 Series with NFC"} <= providers
    assert providers <= set(passkey_providers().values())
    odd = [u["userId"] for u in users if any(ch in u["userId"] for ch in ": @/") or not u["userId"].isascii()]
    assert len(odd) > 20


def test_demo_activity_is_recent_and_uses_the_documented_states(app: EmulatorApp, client: httpx.Client) -> None:
    app.seed_demo()
    actions = client.get("/v1/users/alice%40example.com/actions").json()
    assert len(actions) == 5  # the sixth is 40 days old, beyond the API's window
    assert all(action["state"] in ACTION_STATES for action in actions)
    created = [datetime.fromisoformat(action["createdAt"]) for action in actions]
    assert created == sorted(created, reverse=True)
    assert min(created) > datetime.now(UTC) - timedelta(days=30)
    assert {
        "actionCode",
        "idempotencyKey",
        "createdAt",
        "updatedAt",
        "state",
        "stateUpdatedAt",
        "verificationMethod",
        "verifiedByAuthenticatorId",
        "userAgent",
        "ipAddress",
        "countryCode",
    } == set(actions[0])


def test_seeding_the_demo_twice_duplicates_nothing(app: EmulatorApp) -> None:
    app.seed_demo()
    before = app.store.counts()
    app.seed_demo()
    assert app.store.counts() == before


# --- routing and queries beyond the contract ---


def test_segments_are_decoded_from_raw_uri_or_else_from_path_info(app: EmulatorApp) -> None:
    app.seed([{"userId": "ærøskøbing:42", "email": "aero@example.com"}])
    raw = {"RAW_URI": "/v1/users/%C3%A6r%C3%B8sk%C3%B8bing%3A42?x=1", "PATH_INFO": "ignored"}
    assert b"aero@example.com" in call(app, "GET", raw)[1]
    # Plain httpx.WSGITransport: decoded text in PATH_INFO. wsgiref: UTF-8 bytes as latin-1 text.
    assert b"aero@example.com" in call(app, "GET", {"PATH_INFO": "/v1/users/ærøskøbing:42"})[1]
    latin1 = "/v1/users/ærøskøbing:42".encode().decode("latin-1")
    assert b"aero@example.com" in call(app, "GET", {"PATH_INFO": latin1})[1]


def test_invalid_percent_encoding_is_a_400(client: httpx.Client) -> None:
    response = client.get("/v1/users/%FF%FE")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "path",
    ["/", "/v2/users/x", "/v1/users/", "/v1/users/x/", "/v1/users//authenticators", "/v1/users/x/other"],
)
def test_unknown_routes_are_404_with_the_error_body(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errorCode"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/v1/users/x", "GET, PATCH, POST, DELETE"),
        ("DELETE", "/v1/users/x/authenticators", "GET, POST"),
        ("GET", "/v1/users/x/authenticators/abc", "DELETE"),
        ("POST", "/v1/users", "GET"),
    ],
)
def test_a_wrong_method_is_405_with_allow(client: httpx.Client, method: str, path: str, allow: str) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == "method_not_allowed"


def test_query_limit_is_checked_and_capped(app: EmulatorApp, client: httpx.Client) -> None:
    app.seed([{"userId": f"many-{n:03d}", "email": "many@example.com"} for n in range(105)])
    assert client.get("/v1/users", params={"email": "many@example.com", "limit": 0}).status_code == 400
    assert client.get("/v1/users", params={"email": "many@example.com", "limit": "ten"}).status_code == 400
    default = client.get("/v1/users", params={"email": "many@example.com"}).json()
    assert len(default["users"]) == 10
    capped = client.get("/v1/users", params={"email": "many@example.com", "limit": 1000}).json()
    assert len(capped["users"]) == 100
    assert capped["lastEvaluatedUserId"] == "many-099"


def test_a_token_query_matches_nobody(app: EmulatorApp, client: httpx.Client) -> None:
    app.seed_demo()
    assert client.get("/v1/users", params={"token": "anything"}).json() == {"users": []}


def test_actions_filter_by_codes_and_from_date_within_30_days(app: EmulatorApp, client: httpx.Client) -> None:
    now = datetime.now(UTC)
    app.seed(
        [
            {
                "userId": "active",
                "actions": [
                    {"actionCode": "signIn", "createdAt": (now - timedelta(days=1)).isoformat()},
                    {"actionCode": "withdraw", "createdAt": (now - timedelta(days=10)).isoformat()},
                    {"actionCode": "signIn", "createdAt": (now - timedelta(days=45)).isoformat()},
                ],
            }
        ]
    )
    assert len(client.get("/v1/users/active/actions").json()) == 2
    assert [a["actionCode"] for a in client.get("/v1/users/active/actions?codes=withdraw").json()] == ["withdraw"]
    since = (now - timedelta(days=5)).date().isoformat()
    assert len(client.get("/v1/users/active/actions", params={"fromDate": since}).json()) == 1
    old = (now - timedelta(days=90)).isoformat()
    assert len(client.get("/v1/users/active/actions", params={"fromDate": old}).json()) == 2
    assert client.get("/v1/users/active/actions", params={"fromDate": "last week"}).status_code == 400
    client.delete("/v1/users/active?actions=true")
    assert client.get("/v1/users/active/actions", params={"fromDate": old}).json() == []


# --- over a real socket ---


def test_the_http_server_speaks_the_same_api_over_a_socket(app: EmulatorApp, clock: FakeClock) -> None:
    with (
        running_server(app, "127.0.0.1", 0) as server,
        httpx.Client(base_url=server.base_url, auth=(KEY, ""), timeout=5) as client,
    ):
        assert server.base_url.startswith("http://127.0.0.1:")
        unknown = client.get("/users/nobody")
        assert unknown.http_version == "HTTP/1.1"
        assert unknown.headers["content-type"] == "application/json"
        assert unknown.json() == {"isEnrolled": False}

        created = client.patch("/users/victim%2Fauthenticators%2Fx", json={"email": "v@example.com"})
        assert created.json()["userId"] == "victim/authenticators/x"
        chunked = client.post("/users/chunky", content=iter([b'{"displayName":', b' "Chunked"}']))
        assert chunked.json() == {"userId": "chunky", "displayName": "Chunked"}

        app.set_faults(reset_rate=1.0, reset_after_apply=True)
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            client.post("/users/reset-after/authenticators", json=sms("+14155550111"))
        app.set_faults(reset_rate=1.0)
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            client.post("/users/reset-before/authenticators", json=sms("+14155550112"))
        app.clear_faults()
        assert len(client.get("/users/reset-after/authenticators").json()) == 1
        assert client.get("/users/reset-before/authenticators").json() == []

        app.set_faults(rate_limit=(0.5, 1))
        assert client.get("/users/nobody").status_code == 200
        throttled = client.get("/users/nobody")
        assert throttled.status_code == 429
        assert throttled.headers["retry-after"] == "2"
        assert throttled.headers["content-type"] == "application/json"

        app.set_faults(hang_rate=1.0)
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            client.get("/users/nobody", timeout=httpx.Timeout(5, read=0.1))
        assert time.monotonic() - started < 2
        app.clear_faults()
        assert client.get("/users/nobody").status_code == 200  # a fresh connection after the dropped ones


def test_the_management_command_serves_the_seeded_emulator() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "manage.py", "authsignal_emulator", "--port", "0", "--in-memory", "--quiet"]
    process = subprocess.Popen(
        [*command, "--seed", "demo", "--secret-key", KEY],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline(), process.stdout.readline()]
        assert "300 users" in lines[0], lines
        base_url = lines[1].split(" at ", 1)[1].strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        with httpx.Client(base_url=base_url, auth=(KEY, ""), timeout=5) as client:
            assert len(client.get("/users/bob/authenticators").json()) == 1
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()
        if process.stderr:
            process.stderr.close()
