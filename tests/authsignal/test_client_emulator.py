"""The client against the in-process emulator: real flows over the wire format, faults, and get_client()."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator

import pytest

from adminpanel.authsignal import connection
from adminpanel.authsignal.client import AuthsignalClient
from adminpanel.authsignal.emulator import DEMO_USERS, EmulatorApp, EmulatorStore, EmulatorTransport
from adminpanel.authsignal.errors import InvalidRequest, RateLimited, Unauthorized, Unavailable
from adminpanel.authsignal.types import VerificationMethod

KEY = "sk_emulator_test"
PHONE = "+14155550123"
# base64url, as a browser's WebAuthn registration would hand them over
CREDENTIAL_ID = "q83vASNFZ4mrze8BI0VniQ"
PUBLIC_KEY = "pQECAyYgASFYIFdqS1qvYnBhc3NrZXktcHVibGljLWtleQ"


class FakeClock:
    """Shared by the emulator's rate limiter and the client's sleep, so waiting takes no real time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class ScriptedRandom(random.Random):
    """Feeds the emulator's fault draws (reset, hang, error per request) from a list; then no faults."""

    def __init__(self, draws: list[float]) -> None:
        super().__init__(0)
        self.draws = list(draws)

    def random(self) -> float:
        return self.draws.pop(0) if self.draws else 0.999


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> EmulatorApp:
    return EmulatorApp(EmulatorStore(":memory:"), KEY, clock=clock, sleep=clock.sleep)


def client_for(emulator: EmulatorApp, clock: FakeClock, *, key: str = KEY, **options) -> AuthsignalClient:
    options.setdefault("retry_attempts", 3)
    options.setdefault("retry_max_wait", 5)
    return AuthsignalClient(
        base_url=connection.EMULATOR_BASE_URL,
        secret_key=key,
        transport=EmulatorTransport(app=emulator, sleep=clock.sleep),
        sleep=clock.sleep,
        **options,
    )


@pytest.fixture
def client(emulator: EmulatorApp, clock: FakeClock) -> Iterator[AuthsignalClient]:
    with client_for(emulator, clock) as client:
        yield client


def enroll_all_four(client: AuthsignalClient, user_id: str) -> None:
    client.enroll_verified_authenticator(user_id, verification_method="EMAIL_OTP", email="jane@example.com")
    client.enroll_verified_authenticator(user_id, verification_method="EMAIL_MAGIC_LINK", email="jane@example.org")
    client.enroll_verified_authenticator(user_id, verification_method="SMS", phone_number=PHONE)
    client.enroll_verified_authenticator(
        user_id,
        verification_method="PASSKEY",
        credential_id=CREDENTIAL_ID,
        credential_public_key=PUBLIC_KEY,
        name="iPhone",
    )


# --- Flows ---


def test_an_unknown_user_is_not_enrolled_and_has_no_authenticators(client, emulator):
    user = client.get_user("nobody@example.com")

    assert (user.user_id, user.is_enrolled, user.email) == ("nobody@example.com", False, None)
    assert client.get_authenticators("nobody@example.com") == []
    assert emulator.request_count == 2


def test_a_wrong_key_is_unauthorized(emulator, clock):
    with client_for(emulator, clock, key="sk_wrong") as client, pytest.raises(Unauthorized) as caught:
        client.get_user("jane")

    assert caught.value.description == (
        "The request is unauthorized. Check that your API key and region base URL are correctly configured."
    )
    assert emulator.request_count == 1


@pytest.mark.parametrize(
    ("kwargs", "contact"),
    [
        ({"verification_method": "EMAIL_OTP", "email": "jane@example.com"}, "jane@example.com"),
        ({"verification_method": "EMAIL_MAGIC_LINK", "email": "jane@example.com"}, "jane@example.com"),
        ({"verification_method": "SMS", "phone_number": PHONE}, PHONE),
        (
            {
                "verification_method": "PASSKEY",
                "credential_id": CREDENTIAL_ID,
                "credential_public_key": PUBLIC_KEY,
                "name": "iPhone",
            },
            "iPhone",
        ),
    ],
)
def test_each_method_enrolls_and_lists_back(client, emulator, kwargs, contact):
    result = client.enroll_verified_authenticator("jane", **kwargs)

    [listed] = client.get_authenticators("jane")
    assert listed == result.authenticator
    assert listed.verification_method == kwargs["verification_method"]
    assert isinstance(listed.verification_method, VerificationMethod)
    assert listed.user_id == "jane"
    credential = listed.webauthn_credential
    assert (listed.email or listed.phone_number or (credential.name if credential else None)) == contact
    assert listed.created_at is not None and listed.created_at.tzinfo is not None
    assert client.get_user("jane").is_enrolled is True
    assert emulator.request_count == 3


def test_a_passkey_comes_back_with_its_credential_details(client):
    enroll_all_four(client, "jane")

    [passkey] = [a for a in client.get_authenticators("jane") if a.verification_method == "PASSKEY"]

    assert passkey.webauthn_credential is not None
    assert passkey.webauthn_credential.credential_id == CREDENTIAL_ID
    assert passkey.webauthn_credential.name == "iPhone"


def test_enroll_list_and_delete(client, emulator):
    enroll_all_four(client, "jane")
    before = client.get_authenticators("jane")
    sms = next(a for a in before if a.verification_method == VerificationMethod.SMS)

    removed = client.delete_authenticator("jane", sms.user_authenticator_id)
    again = client.delete_authenticator("jane", sms.user_authenticator_id)

    after = client.get_authenticators("jane")
    assert len(before) == 4 and len(after) == 3
    assert sms.user_authenticator_id not in {a.user_authenticator_id for a in after}
    assert (removed.already_gone, removed.after_retry) == (False, False)
    assert (again.already_gone, again.after_retry) == (True, False)
    assert emulator.request_count == 4 + 1 + 2 + 1


def test_re_enrolling_the_same_contact_returns_the_existing_authenticator(client):
    first = client.enroll_verified_authenticator("jane", verification_method="SMS", phone_number=PHONE)
    second = client.enroll_verified_authenticator("jane", verification_method="SMS", phone_number=PHONE)

    assert first.authenticator.user_authenticator_id == second.authenticator.user_authenticator_id
    assert len(client.get_authenticators("jane")) == 1


def test_an_invalid_phone_number_is_an_invalid_request(client, emulator):
    with pytest.raises(InvalidRequest) as caught:
        client.enroll_verified_authenticator("jane", verification_method="SMS", phone_number="0800 123")

    assert caught.value.code == "invalid_request"
    assert "E.164" in str(caught.value)
    assert emulator.request_count == 1


def test_update_user_then_get_user(client):
    updated = client.update_user("jane", email="jane@example.com", display_name="Jane", phone_number="9876543210")
    user = client.get_user("jane")

    assert updated.user_id == "jane"
    assert (user.email, user.display_name, user.phone_number) == ("jane@example.com", "Jane", "9876543210")


def test_delete_user_removes_everything(client):
    enroll_all_four(client, "jane")

    client.delete_user("jane")

    assert client.get_authenticators("jane") == []
    assert client.get_user("jane").is_enrolled is False


def test_query_pages_through_every_match_with_the_cursor(client, emulator):
    emulator.seed([{"userId": f"shared-{n:02}", "phoneNumber": PHONE} for n in range(7)])
    emulator.seed([{"userId": "someone-else", "phoneNumber": "+14155550999"}])

    pages = [client.query_users(phone_number=PHONE, limit=3)]
    while pages[-1].next_cursor:
        pages.append(client.query_users(phone_number=PHONE, limit=3, cursor=pages[-1].next_cursor))

    assert [len(page.users) for page in pages] == [3, 3, 1]
    assert sorted(u.user_id for page in pages for u in page.users) == [f"shared-{n:02}" for n in range(7)]
    assert pages[-1].next_cursor is None


def test_query_by_email_with_a_plus_sign(client, emulator):
    emulator.seed(
        [
            {"userId": "plus", "email": "jane+admin@example.com"},
            {"userId": "space", "email": "jane admin@example.com"},
        ]
    )

    page = client.query_users(email="jane+admin@example.com")

    assert [u.user_id for u in page.users] == ["plus"]


@pytest.mark.parametrize(
    "user_id",
    [
        "victim/authenticators/x",
        "../x",
        "..",
        ".",
        "a?b#c",
        "%2F",
        "100%",
        "a b",
        "ærø",
        "@:",
        "123:test",
        "a+b",
    ],
)
def test_hostile_user_ids_round_trip_and_touch_no_one_else(client, emulator, user_id):
    emulator.seed([{"userId": "victim", "authenticators": [{"verificationMethod": "SMS", "phoneNumber": PHONE}]}])

    client.update_user(user_id, email="odd@example.com")
    enrolled = client.enroll_verified_authenticator(user_id, verification_method="EMAIL_OTP", email="odd@example.com")
    [listed] = client.get_authenticators(user_id)
    removed = client.delete_authenticator(user_id, listed.user_authenticator_id)

    assert enrolled.authenticator.user_id == listed.user_id == user_id
    assert client.get_user(user_id).email == "odd@example.com"
    assert removed.already_gone is False
    assert client.get_authenticators(user_id) == []
    assert len(client.get_authenticators("victim")) == 1  # the neighbour is untouched


def test_the_demo_users_with_odd_ids_each_have_their_one_authenticator(client, emulator):
    emulator.seed_demo()
    odd_ids = ["123:test", "ærøskøbing:42", "user name@corp", "team/ops/7", "100% real?", "<b>not-bold</b>"]
    assert set(odd_ids) <= set(DEMO_USERS)

    for user_id in odd_ids:
        [item] = client.get_authenticators(user_id)
        assert item.user_id == user_id


def test_every_demo_user_parses_including_unknown_methods(client, emulator):
    emulator.seed_demo()

    frank = client.get_authenticators("frank")
    actions = client.get_user_actions("alice@example.com")

    assert "SMART_CARD" in {a.verification_method for a in frank}  # an unknown future method, kept as is
    assert actions and all(a.created_at is not None for a in actions)


# --- Faults injected through the emulator's Python API ---


def test_500s_on_a_get_are_retried_then_unavailable(client, emulator, clock):
    emulator.set_faults(error_rate=1.0)

    with pytest.raises(Unavailable) as caught:
        client.get_authenticators("jane")

    assert caught.value.status == 500
    assert emulator.request_count == 3
    assert len(clock.slept) == 2


def test_a_500_on_enroll_is_sent_once(client, emulator, clock):
    emulator.set_faults(error_rate=1.0)

    with pytest.raises(Unavailable) as caught:
        client.enroll_verified_authenticator("jane", verification_method="SMS", phone_number=PHONE)

    assert caught.value.outcome_unknown is True
    assert emulator.request_count == 1
    assert clock.slept == []


def test_a_429_is_waited_out_and_retried(client, emulator, clock):
    emulator.set_faults(rate_limit=(1, 1))  # one request per second, burst of one
    client.get_user("jane")  # takes the only token

    assert client.get_authenticators("jane") == []

    assert emulator.request_count == 3
    assert clock.slept == [1.0]  # the emulator's Retry-After: 1


def test_a_429_asking_longer_than_max_wait_fails_at_once(emulator, clock):
    emulator.set_faults(rate_limit=(0.1, 1))  # a token every 10 s
    with client_for(emulator, clock, retry_max_wait=5) as client:
        client.get_user("jane")

        with pytest.raises(RateLimited) as caught:
            client.get_user("jane")

    assert caught.value.retry_after == 10
    assert emulator.request_count == 2
    assert clock.slept == []


def test_latency_beyond_the_read_timeout_is_a_timeout_and_retried(emulator, clock):
    emulator.set_faults(latency_ms=2000)
    with client_for(emulator, clock, read_timeout=0.5) as client, pytest.raises(Unavailable) as caught:
        client.get_user("jane")

    assert str(caught.value) == "Authsignal is not answering (timed out after 0.5 s)."
    assert emulator.request_count == 3


def test_an_enroll_that_times_out_may_still_have_been_applied(emulator, clock):
    emulator.set_faults(latency_ms=2000)
    with client_for(emulator, clock, read_timeout=0.5) as client:
        with pytest.raises(Unavailable) as caught:
            client.enroll_verified_authenticator("jane", verification_method="SMS", phone_number=PHONE)
        emulator.clear_faults()
        after = client.get_authenticators("jane")

    assert caught.value.outcome_unknown is True
    assert len(after) == 1  # the emulator did the work; the answer was lost
    assert emulator.request_count == 2


def test_a_reset_before_enroll_was_applied_says_nothing_happened(client, emulator):
    emulator.set_faults(reset_rate=1.0)

    with pytest.raises(Unavailable) as caught:
        client.enroll_verified_authenticator("jane", verification_method="SMS", phone_number=PHONE)
    emulator.clear_faults()

    assert caught.value.outcome_unknown is False
    assert client.get_authenticators("jane") == []
    assert emulator.request_count == 2


def test_a_reset_after_enroll_was_applied_is_not_resent(client, emulator):
    emulator.set_faults(reset_rate=1.0, reset_after_apply=True)

    with pytest.raises(Unavailable) as caught:
        client.enroll_verified_authenticator("jane", verification_method="SMS", phone_number=PHONE)
    emulator.clear_faults()

    assert caught.value.outcome_unknown is True
    assert len(client.get_authenticators("jane")) == 1
    assert emulator.request_count == 2


def test_a_delete_whose_answer_was_lost_ends_already_gone_after_retry(clock):
    # The first DELETE is applied and then its connection reset; the retry finds nothing left.
    draws = ScriptedRandom([])
    emulator = EmulatorApp(EmulatorStore(":memory:"), KEY, clock=clock, sleep=clock.sleep, rng=draws)
    with client_for(emulator, clock) as client:
        enrolled = client.enroll_verified_authenticator("jane", verification_method="SMS", phone_number=PHONE)
        draws.draws = [0.0, 0.999, 0.999]  # the next request: a reset (after applying), no hang, no error
        emulator.set_faults(reset_rate=0.5, reset_after_apply=True)

        result = client.delete_authenticator("jane", enrolled.authenticator.user_authenticator_id)

        emulator.clear_faults()
        assert client.get_authenticators("jane") == []
    assert (result.already_gone, result.after_retry) == (True, True)
    assert emulator.request_count == 1 + 2 + 1


# --- The shared client from settings (tests run with no AUTHSIGNAL_SECRET_KEY, so: the emulator) ---


def test_get_client_talks_to_the_in_process_emulator_by_default():
    connection.reset_client()
    client = connection.get_client()
    emulator = connection.get_emulator()

    assert isinstance(emulator, EmulatorApp)
    assert client.base_url == connection.EMULATOR_BASE_URL
    client.ping()
    assert client.get_user("jane").is_enrolled is False
    assert emulator.request_count == 2


def test_get_client_is_one_client_per_process_even_across_threads():
    connection.reset_client()
    seen: list[AuthsignalClient] = []
    threads = [threading.Thread(target=lambda: seen.append(connection.get_client())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({id(client) for client in seen}) == 1
    assert seen[0] is connection.get_client()


def test_reset_client_builds_a_fresh_one():
    first = connection.get_client()
    connection.reset_client()

    assert connection.get_client() is not first


def test_with_a_secret_key_it_talks_to_the_real_api(settings):
    settings.AUTHSIGNAL_USE_EMULATOR = False
    settings.AUTHSIGNAL_SECRET_KEY = "sk_live_not_a_real_key"
    settings.AUTHSIGNAL_API_URL = "https://eu.api.authsignal.com/v1"
    connection.reset_client()
    try:
        assert connection.get_client().base_url == "https://eu.api.authsignal.com/v1"
        assert connection.get_emulator() is None
    finally:
        connection.reset_client()
