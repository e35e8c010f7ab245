"""The Authsignal client against scripted upstreams (httpx.MockTransport): wire format, failures, retries."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from adminpanel.authsignal import client as client_module
from adminpanel.authsignal.client import AuthsignalClient
from adminpanel.authsignal.errors import (
    InvalidRequest,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
    parse_retry_after,
)
from adminpanel.authsignal.types import (
    ActionState,
    Authenticator,
    AuthenticatorAttachment,
    CredentialDeviceType,
    SmsChannel,
    VerificationMethod,
    parse_timestamp,
)

BASE_URL = "https://api.authsignal.test/v1"
SECRET = "sk_test_secret"
UNAUTHORIZED_DESCRIPTION = (
    "The request is unauthorized. Check that your API key and region base URL are correctly configured."
)

Step = Callable[[httpx.Request], httpx.Response]


class Upstream:
    """A scripted fake Authsignal: the n-th request gets the n-th step (the last one repeats)."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        step = self.steps[min(len(self.requests), len(self.steps)) - 1]
        return step(request)

    @property
    def attempts(self) -> int:
        return len(self.requests)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def answer(status: int = 200, body: Any = None, *, headers: dict[str, str] | None = None) -> Step:
    def step(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers=headers)

    return step


def raw(status: int, content: bytes, content_type: str = "application/json") -> Step:
    def step(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content, headers={"Content-Type": content_type})

    return step


def fail(exc_type: type[httpx.TransportError], message: str = "boom") -> Step:
    def step(request: httpx.Request) -> httpx.Response:
        raise exc_type(message, request=request)

    return step


def error(status: int, code: str, description: str, **headers: str) -> Step:
    body = {"error": code, "errorCode": code, "errorDescription": description}
    return answer(status, body, headers=headers)


def authenticator_json(**overrides: Any) -> dict[str, Any]:
    item = {
        "userAuthenticatorId": "4efd2d0d-3278-4e03-8143-d9a0850bebc0",
        "verificationMethod": "SMS",
        "createdAt": "2024-05-13T04:59:02.640Z",
        "userId": "user-1",
        "phoneNumber": "+447700900123",
    }
    item.update(overrides)
    return item


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def make_client(slept: list[float]) -> Iterator[Callable[..., AuthsignalClient]]:
    made: list[AuthsignalClient] = []

    def make(upstream: Upstream, **options: Any) -> AuthsignalClient:
        options.setdefault("retry_attempts", 3)
        options.setdefault("retry_max_wait", 10)
        client = AuthsignalClient(
            base_url=BASE_URL,
            secret_key=SECRET,
            transport=httpx.MockTransport(upstream),
            sleep=slept.append,
            **options,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


# --- The request on the wire ---


def test_it_authenticates_with_the_secret_key_as_basic_auth_username(make_client):
    upstream = Upstream(answer(200, {"isEnrolled": False}))

    make_client(upstream).get_user("user-1")

    request = upstream.last
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{SECRET}:".encode()).decode()
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("authenticator-admin/")
    assert request.method == "GET"
    assert request.url.raw_path == b"/v1/users/user-1"


@pytest.mark.parametrize(
    ("user_id", "segment"),
    [
        ("victim/authenticators/x", b"victim%2Fauthenticators%2Fx"),
        ("../x", b"..%2Fx"),
        ("..", b"%2E%2E"),
        (".", b"%2E"),
        ("...", b"..."),
        ("a?b#c", b"a%3Fb%23c"),
        ("%2F", b"%252F"),
        ("100%", b"100%25"),
        ("a b", b"a%20b"),
        ("ærø", b"%C3%A6r%C3%B8"),
        ("@:", b"%40%3A"),
        ("123:test", b"123%3Atest"),
        ("a+b&c=d;e", b"a%2Bb%26c%3Dd%3Be"),
    ],
)
def test_a_hostile_user_id_stays_exactly_one_path_segment(make_client, user_id, segment):
    upstream = Upstream(answer(200, []))

    make_client(upstream).get_authenticators(user_id)

    url = upstream.last.url
    assert url.raw_path == b"/v1/users/" + segment + b"/authenticators"
    assert url.query == b""
    assert unquote(segment.decode()) == user_id  # what the server decodes is the id we meant
    assert upstream.attempts == 1


def test_a_hostile_authenticator_id_stays_one_segment_too(make_client):
    upstream = Upstream(answer(200, {"success": True}))

    make_client(upstream).delete_authenticator("..", "../../users/victim")

    assert upstream.last.method == "DELETE"
    assert upstream.last.url.raw_path == b"/v1/users/%2E%2E/authenticators/..%2F..%2Fusers%2Fvictim"


@pytest.mark.parametrize("user_id", ["", None, 42])
def test_an_empty_or_non_string_user_id_is_refused_before_any_call(make_client, user_id):
    upstream = Upstream(answer(200, []))
    client = make_client(upstream)

    with pytest.raises((ValueError, TypeError)):
        client.get_authenticators(user_id)
    with pytest.raises((ValueError, TypeError)):
        client.delete_authenticator("user-1", user_id)

    assert upstream.attempts == 0


def test_query_values_are_form_encoded(make_client):
    upstream = Upstream(answer(200, {"users": []}))

    make_client(upstream).query_users(email="a+b c@example.com", limit=25, cursor="user/9")

    assert upstream.last.url.raw_path == b"/v1/users?email=a%2Bb+c%40example.com&limit=25&lastEvaluatedUserId=user%2F9"
    assert upstream.attempts == 1


def test_query_users_needs_at_least_one_filter(make_client):
    upstream = Upstream(answer(200, {"users": []}))

    with pytest.raises(ValueError, match="email, a phone number or a username"):
        make_client(upstream).query_users(limit=10)

    assert upstream.attempts == 0


def test_query_users_pages_with_the_cursor(make_client):
    upstream = Upstream(
        answer(
            200,
            {
                "users": [
                    {
                        "userId": "u1",
                        "email": "a@example.com",
                        "isEnrolled": True,
                        "createdAt": "2024-05-13T04:59:02Z",
                    },
                    {"userId": "u2", "isEnrolled": False, "somethingNew": {"x": 1}},
                ],
                "lastEvaluatedUserId": "u2",
            },
        ),
        answer(200, {"users": []}),
    )
    client = make_client(upstream)

    first = client.query_users(phone_number="+447700900123", limit=2)
    last = client.query_users(phone_number="+447700900123", limit=2, cursor=first.next_cursor)

    assert [u.user_id for u in first.users] == ["u1", "u2"]
    assert first.users[0].created_at == datetime(2024, 5, 13, 4, 59, 2, tzinfo=UTC)
    assert first.next_cursor == "u2"
    assert last.users == () and last.next_cursor is None
    assert upstream.requests[1].url.params["lastEvaluatedUserId"] == "u2"
    assert upstream.requests[1].url.params["phoneNumber"] == "+447700900123"
    assert upstream.attempts == 2


def test_update_user_sends_only_the_given_fields_in_camel_case(make_client):
    upstream = Upstream(answer(200, {"userId": "user-1", "isEnrolled": True, "phoneNumber": "9876543210"}))

    user = make_client(upstream).update_user("user-1", phone_number="9876543210", display_name=None)

    assert upstream.last.method == "PATCH"
    assert json.loads(upstream.last.content) == {"phoneNumber": "9876543210", "displayName": None}
    assert user.phone_number == "9876543210" and user.user_id == "user-1"
    assert upstream.attempts == 1


def test_update_user_refuses_unknown_fields(make_client):
    upstream = Upstream(answer(200, {}))

    with pytest.raises(TypeError, match="phone"):
        make_client(upstream).update_user("user-1", phone="1")

    assert upstream.attempts == 0


@pytest.mark.parametrize(
    ("kwargs", "body"),
    [
        (
            {"verification_method": "EMAIL_OTP", "email": "a@example.com", "is_default": True},
            {"verificationMethod": "EMAIL_OTP", "email": "a@example.com", "isDefault": True},
        ),
        (
            {"verification_method": VerificationMethod.EMAIL_MAGIC_LINK, "email": "a@example.com"},
            {"verificationMethod": "EMAIL_MAGIC_LINK", "email": "a@example.com"},
        ),
        (
            {"verification_method": "SMS", "phone_number": "+447700900123"},
            {"verificationMethod": "SMS", "phoneNumber": "+447700900123"},
        ),
        (
            {
                "verification_method": "PASSKEY",
                "credential_id": "Y3JlZA",
                "credential_public_key": "cGs",
                "name": "iPhone",
            },
            {
                "verificationMethod": "PASSKEY",
                "credentialId": "Y3JlZA",
                "credentialPublicKey": "cGs",
                "name": "iPhone",
            },
        ),
    ],
)
def test_enroll_sends_the_fields_of_each_method(make_client, kwargs, body):
    upstream = Upstream(answer(200, {"authenticator": authenticator_json(), "recoveryCodes": ["r1", "r2"]}))

    result = make_client(upstream).enroll_verified_authenticator("user-1", **kwargs)

    assert upstream.last.method == "POST"
    assert upstream.last.url.raw_path == b"/v1/users/user-1/authenticators"
    assert json.loads(upstream.last.content) == body
    assert result.authenticator.user_authenticator_id == "4efd2d0d-3278-4e03-8143-d9a0850bebc0"
    assert result.recovery_codes == ("r1", "r2")
    assert "r1" not in repr(result)  # recovery codes are secrets
    assert upstream.attempts == 1


def test_enroll_without_the_methods_contact_is_refused_before_any_call(make_client):
    upstream = Upstream(answer(200, {}))

    with pytest.raises(ValueError, match="credential_public_key"):
        make_client(upstream).enroll_verified_authenticator(
            "user-1", verification_method="PASSKEY", credential_id="abc"
        )

    assert upstream.attempts == 0


def test_get_user_actions_sends_codes_and_from_date(make_client):
    upstream = Upstream(answer(200, []))

    make_client(upstream).get_user_actions(
        "user-1", codes=["signIn", "withdraw"], from_date=datetime(2024, 5, 13, 4, 59, 2, 640000, tzinfo=UTC)
    )

    assert upstream.last.url.raw_path == (
        b"/v1/users/user-1/actions?codes=signIn%2Cwithdraw&fromDate=2024-05-13T04%3A59%3A02.640Z"
    )


# --- Parsing answers ---


def test_get_user_parses_the_profile_and_fills_in_the_id(make_client):
    upstream = Upstream(
        answer(
            200,
            {
                "isEnrolled": True,
                "email": "jane@example.com",
                "emailVerified": True,
                "enrolledVerificationMethods": ["EMAIL_MAGIC_LINK", "PASSKEY", "FUTURE_METHOD"],
                "allowedVerificationMethods": ["SMS"],
                "defaultVerificationMethod": "EMAIL_MAGIC_LINK",
                "custom": {"tier": "gold"},
                "brandNewField": [1, 2, 3],
            },
        )
    )

    user = make_client(upstream).get_user("jane@example.com")

    assert user.user_id == "jane@example.com"
    assert user.is_enrolled is True and user.email_verified is True
    assert user.enrolled_verification_methods == ("EMAIL_MAGIC_LINK", "PASSKEY", "FUTURE_METHOD")
    assert user.enrolled_verification_methods[1] is VerificationMethod.PASSKEY
    assert user.default_verification_method is VerificationMethod.EMAIL_MAGIC_LINK
    assert user.custom == {"tier": "gold"}
    with pytest.raises(TypeError):
        user.custom["tier"] = "tin"  # type: ignore[index]


def test_an_unknown_user_is_not_enrolled_rather_than_an_error(make_client):
    upstream = Upstream(answer(200, {"isEnrolled": False}))

    user = make_client(upstream).get_user("nobody")

    assert user.is_enrolled is False and user.email is None and user.enrolled_verification_methods == ()


def test_a_passkey_authenticator_is_parsed_in_full(make_client):
    item = authenticator_json(
        verificationMethod="PASSKEY",
        phoneNumber=None,
        verifiedAt="2024-05-13T04:59:17.640Z",
        lastVerifiedAt="2024-07-13T02:43:37Z",
        webauthnCredential={
            "credentialId": "cred-1",
            "deviceId": "dev-1",
            "name": "iPhone",
            "aaguid": "fbfc3007-154e-4ecc-8c0b-6e020557d7bd",
            "aaguidMapping": {
                "name": "iCloud Keychain",
                "svgIconLight": "data:light",
                "svgIconDark": "data:dark",
            },
            "credentialBackedUp": True,
            "credentialDeviceType": "multiDevice",
            "authenticatorAttachment": "platform",
            "parsedUserAgent": {
                "ua": "Mozilla/5.0 (iPhone)",
                "browser": {"name": "Mobile Safari", "version": "17.4", "major": "17"},
                "device": {"vendor": "Apple", "model": "iPhone", "type": "mobile"},
                "engine": {"name": "WebKit", "version": "605.1.15"},
                "os": {"name": "iOS", "version": "17.4"},
                "cpu": {},
            },
        },
    )
    upstream = Upstream(answer(200, [item]))

    [passkey] = make_client(upstream).get_authenticators("user-1")

    credential = passkey.webauthn_credential
    assert credential is not None
    assert passkey.verification_method is VerificationMethod.PASSKEY
    assert passkey.created_at == datetime(2024, 5, 13, 4, 59, 2, 640000, tzinfo=UTC)
    assert passkey.last_verified_at == datetime(2024, 7, 13, 2, 43, 37, tzinfo=UTC)
    assert credential.provider == "iCloud Keychain"
    assert credential.credential_device_type is CredentialDeviceType.MULTI_DEVICE
    assert credential.authenticator_attachment is AuthenticatorAttachment.PLATFORM
    assert credential.parsed_user_agent is not None
    assert credential.parsed_user_agent.summary == "Mobile Safari 17 on iOS 17.4"
    assert credential.parsed_user_agent.device["vendor"] == "Apple"


def test_the_authenticators_own_display_name_is_kept():
    named = Authenticator.from_api(authenticator_json(displayName="Work phone"))
    assert named.given_display_name == "Work phone"


def test_unknown_enum_values_are_kept_as_plain_strings(make_client):
    upstream = Upstream(
        answer(
            200,
            [
                authenticator_json(
                    verificationMethod="FUTURE_METHOD",
                    previousSmsChannel="CARRIER_PIGEON",
                    webauthnCredential={
                        "credentialDeviceType": "quantumDevice",
                        "authenticatorAttachment": "hybrid",
                    },
                ),
                authenticator_json(userAuthenticatorId="a2", previousSmsChannel="WHATSAPP"),
            ],
        ),
        answer(200, [{"actionCode": "signIn", "state": "SOMETHING_NEW", "verificationMethod": "NEXT_BIG_THING"}]),
    )
    client = make_client(upstream)

    future, known = client.get_authenticators("user-1")
    [action] = client.get_user_actions("user-1")

    assert future.verification_method == "FUTURE_METHOD"
    assert not isinstance(future.verification_method, VerificationMethod)
    assert future.previous_sms_channel == "CARRIER_PIGEON"
    assert future.webauthn_credential is not None
    assert future.webauthn_credential.credential_device_type == "quantumDevice"
    assert future.webauthn_credential.authenticator_attachment == "hybrid"
    assert known.previous_sms_channel is SmsChannel.WHATSAPP
    assert action.state == "SOMETHING_NEW" and action.verification_method == "NEXT_BIG_THING"
    assert upstream.attempts == 2


def test_a_user_action_is_parsed(make_client):
    upstream = Upstream(
        answer(
            200,
            [
                {
                    "actionCode": "signIn",
                    "idempotencyKey": "k1",
                    "createdAt": "2024-05-13T04:59:02.640Z",
                    "updatedAt": "not a date",
                    "state": "CHALLENGE_SUCCEEDED",
                    "stateUpdatedAt": "2024-05-13T05:00:00Z",
                    "verificationMethod": "SMS",
                    "verifiedByAuthenticatorId": "a1",
                    "userAgent": "curl/8",
                    "ipAddress": "192.0.2.1",
                    "countryCode": "NZ",
                }
            ],
        )
    )

    [action] = make_client(upstream).get_user_actions("user-1")

    assert action.state is ActionState.CHALLENGE_SUCCEEDED
    assert action.updated_at is None  # a bad timestamp is dropped, not fatal
    assert action.created_at == datetime(2024, 5, 13, 4, 59, 2, 640000, tzinfo=UTC)
    assert action.country_code == "NZ"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-13T04:59:02.640Z", datetime(2024, 5, 13, 4, 59, 2, 640000, tzinfo=UTC)),
        ("2024-05-13T04:59:02Z", datetime(2024, 5, 13, 4, 59, 2, tzinfo=UTC)),
        ("2024-05-13T06:59:02+02:00", datetime(2024, 5, 13, 4, 59, 2, tzinfo=UTC)),
        ("2024-05-13T04:59:02", datetime(2024, 5, 13, 4, 59, 2, tzinfo=UTC)),
        ("2024-13-45T00:00:00Z", None),
        ("yesterday", None),
        ("", None),
        (1715576342, None),
        (None, None),
    ],
)
def test_timestamps_are_aware_utc_or_none(text, expected):
    assert parse_timestamp(text) == expected


def test_extra_fields_are_ignored(make_client):
    upstream = Upstream(answer(200, [authenticator_json(shinyNewThing={"nested": [1]}, anotherOne=None)]))

    [item] = make_client(upstream).get_authenticators("user-1")

    assert item.phone_number == "+447700900123"


def test_an_authenticator_without_its_id_is_an_unexpected_shape(make_client):
    item = authenticator_json()
    del item["userAuthenticatorId"]
    upstream = Upstream(answer(200, [item]))

    with pytest.raises(Unavailable, match="unexpected shape: an authenticator has no 'userAuthenticatorId'"):
        make_client(upstream).get_authenticators("user-1")

    assert upstream.attempts == 1


@pytest.mark.parametrize(
    ("call", "body"),
    [
        (lambda c: c.get_authenticators("u"), {"authenticators": []}),
        (lambda c: c.get_authenticators("u"), ["not an object"]),
        (lambda c: c.get_user("u"), [1, 2]),
        (lambda c: c.query_users(email="a@x.io"), []),
        (lambda c: c.query_users(email="a@x.io"), {"users": "nope"}),
        (lambda c: c.get_user_actions("u"), [{"state": "ALLOW"}]),
    ],
)
def test_a_wrong_shape_is_unavailable_and_not_retried(make_client, call, body):
    upstream = Upstream(answer(200, body))

    with pytest.raises(Unavailable, match="Authsignal answered in an unexpected shape") as caught:
        call(make_client(upstream))

    assert caught.value.outcome_unknown is False
    assert upstream.attempts == 1


def test_malformed_json_on_200_is_unavailable_and_not_retried(make_client):
    upstream = Upstream(raw(200, b'{"isEnrolled": tru'))

    with pytest.raises(Unavailable, match="not JSON") as caught:
        make_client(upstream).get_user("user-1")

    assert caught.value.attempts == 1
    assert upstream.attempts == 1


def test_malformed_json_after_an_enrollment_says_the_outcome_is_unknown(make_client):
    upstream = Upstream(raw(200, b"<html>OK</html>", "text/html"))

    with pytest.raises(Unavailable) as caught:
        make_client(upstream).enroll_verified_authenticator(
            "user-1", verification_method="SMS", phone_number="+447700900123"
        )

    assert caught.value.outcome_unknown is True
    assert "may or may not have been made" in str(caught.value)
    assert upstream.attempts == 1


# --- Error answers ---


def test_401_is_unauthorized_with_a_clear_message_and_no_retry(make_client):
    upstream = Upstream(error(401, "unauthorized", UNAUTHORIZED_DESCRIPTION))

    with pytest.raises(Unauthorized) as caught:
        make_client(upstream).get_user("user-1")

    assert "AUTHSIGNAL_SECRET_KEY" in str(caught.value)
    assert caught.value.status == 401
    assert caught.value.code == "unauthorized"
    assert caught.value.description == UNAUTHORIZED_DESCRIPTION
    assert upstream.attempts == 1


@pytest.mark.parametrize(
    "body",
    [
        {
            "errorCode": "invalid_request",
            "errorDescription": "phoneNumber must be E.164",
        },  # Python/Go/PHP SDKs
        {"error": "invalid_request", "errorDescription": "phoneNumber must be E.164"},  # Node/.NET/Java/Ruby
    ],
)
def test_400_is_invalid_request_reading_either_code_key(make_client, body):
    upstream = Upstream(answer(400, body))

    with pytest.raises(InvalidRequest) as caught:
        make_client(upstream).enroll_verified_authenticator("u", verification_method="SMS", phone_number="12")

    assert caught.value.code == "invalid_request"
    assert str(caught.value) == "Authsignal rejected the request: phoneNumber must be E.164 (HTTP 400)."
    assert upstream.attempts == 1


@pytest.mark.parametrize("status", [403, 409, 422])
def test_other_4xx_are_invalid_request_and_not_retried(make_client, status):
    upstream = Upstream(raw(status, b"nope", "text/plain"))

    with pytest.raises(InvalidRequest) as caught:
        make_client(upstream).get_user("user-1")

    assert caught.value.status == status and caught.value.code is None
    assert upstream.attempts == 1


def test_a_non_json_error_body_from_a_gateway_is_handled(make_client, slept):
    upstream = Upstream(raw(502, b"<html><h1>502 Bad Gateway</h1></html>", "text/html"))

    with pytest.raises(Unavailable) as caught:
        make_client(upstream).get_user("user-1")

    assert caught.value.status == 502 and caught.value.description == ""
    assert "HTTP 502" in str(caught.value)
    assert upstream.attempts == 3
    assert len(slept) == 2


def test_404_on_a_get_is_not_found_and_not_retried(make_client):
    upstream = Upstream(error(404, "not_found", "No such thing"))

    with pytest.raises(NotFound):
        make_client(upstream).get_authenticators("user-1")

    assert upstream.attempts == 1


def test_a_redirect_is_not_followed(make_client):
    upstream = Upstream(lambda r: httpx.Response(302, headers={"Location": "https://evil.example/"}))

    with pytest.raises(Unavailable, match="HTTP 302"):
        make_client(upstream, retry_attempts=1).get_user("user-1")

    assert upstream.attempts == 1


# --- Retries ---


def test_500_then_200_on_a_get_is_retried_once_with_a_short_backoff(make_client, slept):
    upstream = Upstream(error(500, "internal", "oops"), answer(200, {"isEnrolled": True}))

    user = make_client(upstream).get_user("user-1")

    assert user.is_enrolled is True
    assert upstream.attempts == 2
    assert len(slept) == 1 and 0.25 <= slept[0] <= 0.375


def test_backoff_grows_exponentially_with_jitter_and_is_capped(make_client, slept):
    upstream = Upstream(error(503, "unavailable", "down"))

    with pytest.raises(Unavailable) as caught:
        make_client(upstream, retry_attempts=5, retry_max_wait=1).get_user("user-1")

    assert upstream.attempts == 5
    assert caught.value.attempts == 5
    assert len(slept) == 4  # no pointless wait after the last attempt
    assert 0.25 <= slept[0] <= 0.375
    assert 0.5 <= slept[1] <= 0.75
    assert slept[2] == slept[3] == 1  # capped at retry_max_wait


def test_500_on_post_is_sent_once_and_the_outcome_is_unknown(make_client, slept):
    upstream = Upstream(error(500, "internal", "oops"))

    with pytest.raises(Unavailable) as caught:
        make_client(upstream).enroll_verified_authenticator("u", verification_method="EMAIL_OTP", email="a@x.io")

    assert caught.value.outcome_unknown is True
    assert caught.value.status == 500
    assert "may or may not have been made" in str(caught.value)
    assert upstream.attempts == 1
    assert slept == []


def test_500_on_patch_is_sent_once(make_client):
    upstream = Upstream(error(500, "internal", "oops"))

    with pytest.raises(Unavailable):
        make_client(upstream).update_user("u", email="a@x.io")

    assert upstream.attempts == 1


def test_429_with_retry_after_seconds_waits_that_long(make_client, slept):
    upstream = Upstream(error(429, "too_many_requests", "slow down", **{"Retry-After": "2"}), answer(200, []))

    assert make_client(upstream).get_authenticators("user-1") == []

    assert upstream.attempts == 2
    assert slept == [2.0]


def test_429_with_retry_after_as_an_http_date_waits_until_then(make_client, slept):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True)
    upstream = Upstream(error(429, "too_many_requests", "slow down", **{"Retry-After": when}), answer(200, []))

    make_client(upstream).get_authenticators("user-1")

    assert upstream.attempts == 2
    assert len(slept) == 1 and 3.5 <= slept[0] <= 5.0


def test_429_asking_for_longer_than_max_wait_gives_up_at_once(make_client, slept):
    upstream = Upstream(error(429, "too_many_requests", "slow down", **{"Retry-After": "60"}))

    with pytest.raises(RateLimited) as caught:
        make_client(upstream, retry_max_wait=10).get_authenticators("user-1")

    assert caught.value.retry_after == 60
    assert str(caught.value) == "Authsignal is limiting how fast the dashboard may call it; try again in 60 s."
    assert upstream.attempts == 1
    assert slept == []


def test_429_that_persists_stops_after_the_attempts(make_client, slept):
    upstream = Upstream(error(429, "too_many_requests", "slow down", **{"Retry-After": "1"}))

    with pytest.raises(RateLimited) as caught:
        make_client(upstream).get_user("user-1")

    assert caught.value.attempts == 3
    assert upstream.attempts == 3
    assert slept == [1.0, 1.0]


def test_429_on_post_is_not_retried(make_client, slept):
    upstream = Upstream(error(429, "too_many_requests", "slow down", **{"Retry-After": "1"}))

    with pytest.raises(RateLimited) as caught:
        make_client(upstream).update_user("u", email="a@x.io")

    assert caught.value.retry_after == 1
    assert upstream.attempts == 1
    assert slept == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("2", 2.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("-3", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_retry_after_seconds_parsing(header, expected):
    assert parse_retry_after(header) == expected


def test_retry_after_http_date_parsing():
    now = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)

    assert parse_retry_after("Thu, 26 Nov 2026 10:00:07 GMT", now=now) == 7.0
    assert parse_retry_after("Thu, 26 Nov 2026 09:00:00 GMT", now=now) == 0.0


# --- Timeouts, resets, slow answers ---


def test_a_connect_timeout_on_a_get_is_retried_then_unavailable(make_client, slept):
    upstream = Upstream(fail(httpx.ConnectTimeout))

    with pytest.raises(Unavailable) as caught:
        make_client(upstream, connect_timeout=3).get_user("user-1")

    assert str(caught.value) == "Could not reach Authsignal (no connection after 3 s)."
    assert caught.value.outcome_unknown is False
    assert caught.value.status is None
    assert upstream.attempts == 3
    assert len(slept) == 2


def test_a_read_timeout_on_a_get_is_retried_then_unavailable(make_client):
    upstream = Upstream(fail(httpx.ReadTimeout))

    with pytest.raises(Unavailable) as caught:
        make_client(upstream, read_timeout=10).get_authenticators("user-1")

    assert str(caught.value) == "Authsignal is not answering (timed out after 10 s)."
    assert caught.value.outcome_unknown is False  # a read changes nothing
    assert upstream.attempts == 3


def test_a_read_timeout_recovers_on_retry(make_client):
    upstream = Upstream(fail(httpx.ReadTimeout), answer(200, []))

    assert make_client(upstream).get_authenticators("user-1") == []
    assert upstream.attempts == 2


def test_a_connect_failure_on_post_is_not_resent_and_nothing_was_applied(make_client):
    upstream = Upstream(fail(httpx.ConnectError, "[Errno 111] Connection refused"))

    with pytest.raises(Unavailable) as caught:
        make_client(upstream).enroll_verified_authenticator("u", verification_method="EMAIL_OTP", email="a@x.io")

    assert caught.value.outcome_unknown is False
    assert "may or may not" not in str(caught.value)
    assert upstream.attempts == 1


def test_a_read_timeout_on_post_is_not_resent_and_the_outcome_is_unknown(make_client):
    upstream = Upstream(fail(httpx.ReadTimeout))

    with pytest.raises(Unavailable) as caught:
        make_client(upstream, read_timeout=10).enroll_verified_authenticator(
            "u", verification_method="EMAIL_OTP", email="a@x.io"
        )

    assert caught.value.outcome_unknown is True
    assert str(caught.value) == (
        "Authsignal is not answering (timed out after 10 s). "
        "The change may or may not have been made: check before trying again."
    )
    assert upstream.attempts == 1


class FakeAuthsignal:
    """Just enough state to tell whether a write was applied once, twice or not at all."""

    def __init__(self) -> None:
        self.authenticators = {"a1": authenticator_json(userAuthenticatorId="a1")}
        self.enrollments = 0

    def delete(self, *, then_reset: bool = False) -> Step:
        def step(request: httpx.Request) -> httpx.Response:
            authenticator_id = unquote(request.url.raw_path.decode().rsplit("/", 1)[1])
            if self.authenticators.pop(authenticator_id, None) is None:
                return error(404, "not_found", "Authenticator not found")(request)
            if then_reset:
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
            return httpx.Response(200, json={"success": True})

        return step

    def enroll(self, *, then_reset: bool = False) -> Step:
        def step(request: httpx.Request) -> httpx.Response:
            self.enrollments += 1
            if then_reset:
                raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
            return httpx.Response(200, json={"authenticator": authenticator_json()})

        return step


def test_a_reset_before_a_delete_was_applied_is_retried_and_succeeds(make_client):
    fake = FakeAuthsignal()
    upstream = Upstream(fail(httpx.ReadError, "[Errno 104] Connection reset by peer"), fake.delete())

    result = make_client(upstream).delete_authenticator("user-1", "a1")

    assert (result.already_gone, result.after_retry) == (False, True)
    assert fake.authenticators == {}
    assert upstream.attempts == 2


def test_a_reset_after_a_delete_was_applied_ends_as_already_gone_after_retry(make_client):
    fake = FakeAuthsignal()
    upstream = Upstream(fake.delete(then_reset=True), fake.delete())

    result = make_client(upstream).delete_authenticator("user-1", "a1")

    assert (result.already_gone, result.after_retry) == (True, True)
    assert upstream.attempts == 2


def test_delete_404_after_a_retried_500_is_already_gone_after_retry(make_client):
    upstream = Upstream(error(500, "internal", "oops"), error(404, "not_found", "Authenticator not found"))

    result = make_client(upstream).delete_authenticator("user-1", "a1")

    assert (result.already_gone, result.after_retry) == (True, True)
    assert upstream.attempts == 2


def test_delete_404_on_the_first_attempt_is_already_gone_not_after_retry(make_client):
    upstream = Upstream(error(404, "not_found", "Authenticator not found"))

    result = make_client(upstream).delete_authenticator("user-1", "a1")

    assert (result.already_gone, result.after_retry) == (True, False)
    assert upstream.attempts == 1


def test_a_plain_delete_is_neither_gone_nor_retried(make_client):
    upstream = Upstream(answer(200, {"success": True}))

    result = make_client(upstream).delete_authenticator("user-1", "a1")

    assert (result.already_gone, result.after_retry) == (False, False)
    assert upstream.attempts == 1


def test_a_delete_that_keeps_failing_says_the_outcome_is_unknown(make_client):
    upstream = Upstream(fail(httpx.ReadTimeout))

    with pytest.raises(Unavailable) as caught:
        make_client(upstream).delete_authenticator("user-1", "a1")

    assert caught.value.outcome_unknown is True
    assert upstream.attempts == 3


def test_a_reset_after_an_enrollment_was_applied_is_not_resent(make_client):
    fake = FakeAuthsignal()
    upstream = Upstream(fake.enroll(then_reset=True), fake.enroll())

    with pytest.raises(Unavailable) as caught:
        make_client(upstream).enroll_verified_authenticator("u", verification_method="SMS", phone_number="+15550100")

    assert caught.value.outcome_unknown is True
    assert str(caught.value).startswith("The connection to Authsignal broke before it answered.")
    assert fake.enrollments == 1  # never applied twice
    assert upstream.attempts == 1


def test_delete_user_treats_an_already_deleted_user_as_deleted(make_client):
    upstream = Upstream(error(404, "not_found", "gone"))

    assert make_client(upstream).delete_user("user-1") is None

    assert upstream.last.method == "DELETE" and upstream.last.url.raw_path == b"/v1/users/user-1"
    assert upstream.attempts == 1


class Drip(httpx.SyncByteStream):
    """A body that trickles in: each gap is under the read timeout, the whole is far over it."""

    def __init__(self, body: bytes, gap: float) -> None:
        self.body, self.gap = body, gap

    def __iter__(self) -> Iterator[bytes]:
        for byte in self.body:
            time.sleep(self.gap)
            yield bytes([byte])


def test_a_slow_drip_is_cut_off_by_the_attempt_budget(make_client):
    body = json.dumps({"isEnrolled": True, "padding": "x" * 200}).encode()
    upstream = Upstream(lambda r: httpx.Response(200, stream=Drip(body, gap=0.02)))

    started = time.monotonic()
    with pytest.raises(Unavailable, match="answering too slowly") as caught:
        make_client(upstream, connect_timeout=0.05, read_timeout=0.1, retry_attempts=2).get_user("user-1")

    assert time.monotonic() - started < 1.0  # the whole body would take over 4 s per attempt
    assert caught.value.outcome_unknown is False
    assert upstream.attempts == 2


def test_a_slow_drip_after_a_post_is_not_resent(make_client):
    body = json.dumps({"authenticator": authenticator_json(), "padding": "x" * 200}).encode()
    upstream = Upstream(lambda r: httpx.Response(200, stream=Drip(body, gap=0.02)))

    with pytest.raises(Unavailable, match="answering too slowly") as caught:
        make_client(upstream, connect_timeout=0.05, read_timeout=0.1).enroll_verified_authenticator(
            "u", verification_method="EMAIL_OTP", email="a@x.io"
        )

    assert caught.value.outcome_unknown is True
    assert upstream.attempts == 1


class StallMidBody(httpx.SyncByteStream):
    """What the real transport does when one gap exceeds the read timeout: ReadTimeout from the stream."""

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"isEnr'
        raise httpx.ReadTimeout("timed out")


def test_a_read_timeout_in_the_middle_of_the_body_is_retried(make_client):
    upstream = Upstream(lambda r: httpx.Response(200, stream=StallMidBody()), answer(200, {"isEnrolled": True}))

    assert make_client(upstream).get_user("user-1").is_enrolled is True
    assert upstream.attempts == 2


def test_an_oversized_body_is_refused(make_client, monkeypatch):
    monkeypatch.setattr(client_module, "_MAX_BODY_BYTES", 100)
    upstream = Upstream(raw(200, json.dumps([authenticator_json()] * 5).encode()))

    with pytest.raises(Unavailable, match="far larger than expected"):
        make_client(upstream, retry_attempts=1).get_authenticators("user-1")

    assert upstream.attempts == 1


# --- Readiness and lifecycle ---


def test_ping_gets_the_probe_user_once(make_client):
    upstream = Upstream(answer(200, {"isEnrolled": False}))

    make_client(upstream).ping()

    assert upstream.last.url.raw_path == b"/v1/users/__readiness_probe__"
    assert upstream.attempts == 1


@pytest.mark.parametrize(
    ("step", "raised"),
    [
        (error(401, "unauthorized", UNAUTHORIZED_DESCRIPTION), Unauthorized),
        (error(503, "x", "y"), Unavailable),
    ],
)
def test_ping_raises_without_retrying(make_client, step, raised):
    upstream = Upstream(step)

    with pytest.raises(raised):
        make_client(upstream).ping()

    assert upstream.attempts == 1


def test_the_client_is_a_context_manager_that_closes_its_pool():
    with AuthsignalClient(base_url=BASE_URL, secret_key=SECRET, transport=httpx.MockTransport(Upstream())) as client:
        assert "sk_test" not in repr(client)

    assert client._http.is_closed


def test_retry_attempts_must_include_the_first_try():
    with pytest.raises(ValueError):
        AuthsignalClient(base_url=BASE_URL, secret_key=SECRET, retry_attempts=0)
