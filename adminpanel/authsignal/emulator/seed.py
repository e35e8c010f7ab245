"""Seeding the emulator: the control endpoint's seed format, and the deterministic demo data set.

Stable demo users that docs and tests may rely on (see DEMO_USERS):

- ``alice@example.com`` — email alice@example.com, phone +14155550101; three authenticators: SMS +14155550101,
  passkey "iPhone" (iCloud Keychain), EMAIL_OTP alice@example.com; recent sign-in activity.
- ``bob`` — exactly one authenticator: SMS +447700900123.
- ``carol`` — two passkeys and nothing else: "MacBook Pro" (iCloud Keychain), "YubiKey 5 NFC" (security key).
- ``dave`` — exists (email dave@example.com) with no authenticators: ``isEnrolled`` is false.
- ``erin`` — two SMS phones, +14155550102 and +14155550103, and nothing else.
- ``frank`` — one of many kinds, incl. methods the dashboard only displays and an unknown future one.
- Odd ids, one authenticator each: ``123:test``, ``ærøskøbing:42``, ``user name@corp``, ``team/ops/7``,
  ``100% real?``, ``<b>not-bold</b>``.

The rest (about 300 users in all) is generated from random.Random(DEMO_SEED): the same data on every run,
with timestamps relative to the moment of seeding so that activity is always recent.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from .api import PROFILE_FIELDS
from .authenticators import (
    SECURITY_KEY_AAGUIDS,
    UNKNOWN_AAGUID,
    contact_of,
    encode_base64url,
    passkey_providers,
    provider_name,
    webauthn_credential,
)
from .store import EmulatorStore, StoredUser
from .wire import format_timestamp, invalid_request, parse_timestamp

DEMO_SEED = 20240513
DEMO_USER_COUNT = 300

DEMO_USERS: dict[str, str] = {
    "alice@example.com": "SMS +14155550101, passkey 'iPhone' (iCloud Keychain), EMAIL_OTP alice@example.com",
    "bob": "exactly one authenticator: SMS +447700900123",
    "carol": "two passkeys only: 'MacBook Pro' (iCloud Keychain) and 'YubiKey 5 NFC' (security key)",
    "dave": "no authenticators (isEnrolled false), email dave@example.com",
    "erin": "two SMS phones: +14155550102 and +14155550103",
    "frank": "SMS, AUTHENTICATOR_APP, WHATSAPP, PUSH, SECURITY_KEY, RECOVERY_CODE and unknown SMART_CARD",
    "123:test": "colon in the id; one EMAIL_MAGIC_LINK",
    "ærøskøbing:42": "non-ASCII and a colon; one passkey (Google Password Manager)",
    "user name@corp": "space and @; one SMS",
    "team/ops/7": "slashes in the id; one EMAIL_OTP",
    "100% real?": "percent sign, space and question mark; one EMAIL_OTP",
    "<b>not-bold</b>": "HTML in the id (must be shown escaped); one SMS",
}

ICLOUD = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"
GOOGLE = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"
WINDOWS_HELLO = "08987058-cadc-4b81-b6e1-30de50dcbe96"
SAMSUNG_PASS = "53414d53-554e-4700-0000-000000000000"
ONE_PASSWORD = "bada5566-a7aa-401f-bd96-45619a55120d"
BITWARDEN = "d548826e-79b4-db40-a3d8-11116f7e8349"
DASHLANE = "531126d6-e717-415c-9320-3d9aa6981239"
PROTON_PASS = "50726f74-6f6e-5061-7373-50726f746f6e"
YUBIKEY_NFC = "2fc0579f-8113-47ea-b116-bb5a8db9202a"
YUBIKEY = "cb69481e-8ff7-4039-93ec-0a2729a154a8"

ACTION_STATES = (
    "ALLOW",
    "BLOCK",
    "CHALLENGE_REQUIRED",
    "CHALLENGE_SUCCEEDED",
    "CHALLENGE_FAILED",
    "REVIEW_REQUIRED",
    "REVIEW_SUCCEEDED",
    "REVIEW_FAILED",
)


# --- the seed format (POST /_emulator/seed {"users": [...]}, app.seed(users)) ---


def load_users(store: EmulatorStore, users: Any, *, now: datetime) -> int:
    """Upsert seed users with their authenticators and actions; answers how many users were given.

    Each user: ``userId`` plus any profile field, optional ``createdAt``, ``authenticators`` and ``actions``.
    An authenticator is ``{"verificationMethod": ..., "email"/"phoneNumber"/...}``; any method is accepted so
    tests can seed kinds the API cannot enroll. Passkeys take ``name``, ``aaguid``, ``credentialId`` or a
    whole ``webauthnCredential``. Missing ids are derived from the user id and the entry's position, so
    seeding the same list twice changes nothing; an entry whose contact the user already has is skipped.
    """
    if not isinstance(users, list):
        raise invalid_request("users must be a list.")
    stamp = format_timestamp(now)
    with store.atomic():
        for raw in users:
            _load_user(store, raw, stamp)
    return len(users)


def _load_user(store: EmulatorStore, raw: Any, stamp: str) -> None:
    if not isinstance(raw, dict) or not isinstance(raw.get("userId"), str) or not raw["userId"]:
        raise invalid_request("Each seeded user needs a non-empty userId string.")
    user_id = raw["userId"]
    existing = store.get_user(user_id)
    profile = dict(existing.profile) if existing else {}
    profile.update({key: raw[key] for key in PROFILE_FIELDS if raw.get(key) is not None})
    created_at = _timestamp(raw.get("createdAt")) or (existing.created_at if existing else stamp)
    store.save_user(StoredUser(user_id, created_at, profile))
    for index, entry in enumerate(_list(raw, "authenticators")):
        item = _authenticator(user_id, entry, stamp, index)
        contact = contact_of(item)
        same = contact and store.find_authenticator(user_id, method=item["verificationMethod"], contact=contact)
        if same and same["userAuthenticatorId"] != item["userAuthenticatorId"]:
            continue  # the user already has this one (enrolled through the API, say)
        store.save_authenticator(item, contact)
    for index, entry in enumerate(_list(raw, "actions")):
        store.save_action(user_id, _action(user_id, entry, stamp, index))


def stable_id(*parts: object) -> str:
    """A UUID v4-shaped id derived from `parts`: the same seed entry gets the same id every time."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _list(raw: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise invalid_request(f"{key} must be a list of objects.")
    return value


def _timestamp(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return format_timestamp(parse_timestamp(str(value)))
    except ValueError:
        raise invalid_request(f"{value!r} is not an ISO 8601 timestamp.") from None


def _authenticator(user_id: str, raw: dict[str, Any], stamp: str, index: int) -> dict[str, Any]:
    method = raw.get("verificationMethod")
    if not isinstance(method, str) or not method:
        raise invalid_request("Each seeded authenticator needs a verificationMethod.")
    created_at = _timestamp(raw.get("createdAt")) or stamp
    item: dict[str, Any] = {
        "userAuthenticatorId": raw.get("userAuthenticatorId") or stable_id(user_id, "authenticator", index, method),
        "userId": user_id,
        "verificationMethod": method,
        "createdAt": created_at,
        "verifiedAt": _timestamp(raw.get("verifiedAt")) or created_at,
    }
    for key in ("email", "phoneNumber", "username", "displayName", "previousSmsChannel"):
        if raw.get(key) is not None:
            item[key] = raw[key]
    if raw.get("lastVerifiedAt"):
        item["lastVerifiedAt"] = _timestamp(raw["lastVerifiedAt"])
    if isinstance(raw.get("webauthnCredential"), dict):
        item["webauthnCredential"] = raw["webauthnCredential"]
    elif method in ("PASSKEY", "SECURITY_KEY"):
        aaguid = raw.get("aaguid") or UNKNOWN_AAGUID
        hardware = aaguid in SECURITY_KEY_AAGUIDS or method == "SECURITY_KEY"
        item["webauthnCredential"] = webauthn_credential(
            credential_id=raw.get("credentialId")
            or encode_base64url(uuid.UUID(stable_id(item["userAuthenticatorId"], "credential")).bytes),
            device_id=raw.get("deviceId") or stable_id(item["userAuthenticatorId"], "device"),
            name=raw.get("name") or provider_name(aaguid) or "Passkey",
            aaguid=aaguid,
            backed_up=raw.get("credentialBackedUp", not hardware),
            device_type=raw.get("credentialDeviceType", "singleDevice" if hardware else "multiDevice"),
            attachment=raw.get("authenticatorAttachment", "cross-platform" if hardware else "platform"),
            user_agent=raw.get("parsedUserAgent"),
        )
    return item


def _action(user_id: str, raw: dict[str, Any], stamp: str, index: int) -> dict[str, Any]:
    created_at = _timestamp(raw.get("createdAt")) or stamp
    return {
        "actionCode": raw.get("actionCode", "signIn"),
        "idempotencyKey": raw.get("idempotencyKey") or stable_id(user_id, "action", index),
        "createdAt": created_at,
        "updatedAt": _timestamp(raw.get("updatedAt")) or created_at,
        "state": raw.get("state", "ALLOW"),
        "stateUpdatedAt": _timestamp(raw.get("stateUpdatedAt")) or created_at,
        "verificationMethod": raw.get("verificationMethod"),
        "verifiedByAuthenticatorId": raw.get("verifiedByAuthenticatorId"),
        "userAgent": raw.get("userAgent"),
        "ipAddress": raw.get("ipAddress"),
        "countryCode": raw.get("countryCode"),
    }


# --- the demo data set ---


def _ua(
    ua: str,
    browser: tuple[str, str],
    engine: tuple[str, str],
    os: tuple[str, str | None],
    device: tuple[str | None, str | None, str | None] = (None, None, None),
    cpu: str | None = None,
) -> dict[str, Any]:
    """A parsedUserAgent in ua-parser-js's shape, which is what Authsignal returns."""
    return {
        "ua": ua,
        "browser": {"name": browser[0], "version": browser[1], "major": browser[1].split(".")[0]},
        "device": {"vendor": device[0], "model": device[1], "type": device[2]},
        "engine": {"name": engine[0], "version": engine[1]},
        "os": {"name": os[0], "version": os[1]},
        "cpu": {"architecture": cpu},
    }


_WEBKIT = ("WebKit", "605.1.15")
IPHONE = _ua(
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1",
    ("Mobile Safari", "17.5"),
    _WEBKIT,
    ("iOS", "17.5"),
    ("Apple", "iPhone", "mobile"),
)
IPAD = _ua(
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
    ("Mobile Safari", "17.4"),
    _WEBKIT,
    ("iOS", "17.4"),
    ("Apple", "iPad", "tablet"),
)
MAC_SAFARI = _ua(
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Safari/605.1.15",
    ("Safari", "17.4.1"),
    _WEBKIT,
    ("Mac OS", "10.15.7"),
    ("Apple", "Macintosh", None),
)
MAC_CHROME = _ua(
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    ("Chrome", "124.0.0.0"),
    ("Blink", "124.0.0.0"),
    ("Mac OS", "10.15.7"),
    ("Apple", "Macintosh", None),
)
PIXEL = _ua(
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.179 Mobile Safari/537.36",
    ("Chrome", "124.0.6367.179"),
    ("Blink", "124.0.6367.179"),
    ("Android", "14"),
    ("Google", "Pixel 8", "mobile"),
)
GALAXY = _ua(
    "Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
    ("Samsung Internet", "25.0"),
    ("Blink", "121.0.0.0"),
    ("Android", "14"),
    ("Samsung", "SM-S911B", "mobile"),
)
WINDOWS_CHROME = _ua(
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    ("Chrome", "124.0.0.0"),
    ("Blink", "124.0.0.0"),
    ("Windows", "10"),
    cpu="amd64",
)
WINDOWS_EDGE = _ua(
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
    ("Edge", "124.0.2478.80"),
    ("Blink", "124.0.2478.80"),
    ("Windows", "10"),
    cpu="amd64",
)
WINDOWS_FIREFOX = _ua(
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0",
    ("Firefox", "126.0"),
    ("Gecko", "126.0"),
    ("Windows", "10"),
    cpu="amd64",
)
LINUX_CHROME = _ua(
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    ("Chrome", "124.0.0.0"),
    ("Blink", "124.0.0.0"),
    ("Linux", None),
    cpu="amd64",
)
DESKTOPS = (MAC_CHROME, WINDOWS_CHROME, WINDOWS_EDGE, MAC_SAFARI, LINUX_CHROME)

# (aaguid, weight, [(passkey name, browser it was created in)]); no names means "the provider's name".
PASSKEY_PROVIDERS: list[tuple[str, int, list[tuple[str, dict[str, Any]]]]] = [
    (
        ICLOUD,
        30,
        [
            ("iPhone", IPHONE),
            ("iPhone 15 Pro", IPHONE),
            ("MacBook Air", MAC_SAFARI),
            ("MacBook Pro", MAC_SAFARI),
            ("iPad", IPAD),
        ],
    ),
    (
        GOOGLE,
        26,
        [
            ("Pixel 8", PIXEL),
            ("Android phone", GALAXY),
            ("Chrome on Windows", WINDOWS_CHROME),
            ("Chrome on Mac", MAC_CHROME),
        ],
    ),
    (
        WINDOWS_HELLO,
        9,
        [("Windows Hello", WINDOWS_EDGE), ("Surface Laptop", WINDOWS_EDGE), ("Work PC", WINDOWS_CHROME)],
    ),
    (SAMSUNG_PASS, 4, [("Galaxy S23", GALAXY)]),
    (ONE_PASSWORD, 6, []),
    (BITWARDEN, 4, []),
    (DASHLANE, 2, []),
    (PROTON_PASS, 2, []),
    (
        YUBIKEY_NFC,
        6,
        [("YubiKey 5 NFC", WINDOWS_FIREFOX), ("Backup YubiKey", LINUX_CHROME), ("Security key", MAC_CHROME)],
    ),
    (YUBIKEY, 2, [("YubiKey", WINDOWS_CHROME)]),
    ("", 4, []),  # the long tail: any provider from passkey_aaguids.json
]
SINGLE_DEVICE = {WINDOWS_HELLO, YUBIKEY_NFC, YUBIKEY}

FIRST_NAMES = [
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Mateo",
    "Sofía",
    "Yuki",
    "Hiroshi",
    "Priya",
    "Arjun",
    "Wei",
    "Fatima",
    "Omar",
    "Amara",
    "Kwame",
    "Zoë",
    "José",
    "Björn",
    "Søren",
    "Ingrid",
    "Łukasz",
    "Agnieszka",
    "Siobhán",
    "Niamh",
    "Dmitri",
    "Olga",
    "Mei",
    "Jin-woo",
    "Seo-yeon",
    "Lucía",
    "Gabriel",
    "Chloé",
    "Léa",
    "Mohammed",
    "Aisha",
    "Tomás",
    "Ana",
    "Isabela",
    "Rafael",
    "Kai",
    "Leilani",
    "Aroha",
    "Ngozi",
    "Chidi",
    "Hamza",
    "Elif",
    "Mehmet",
    "Anh",
    "Minh",
    "Rohan",
    "Ananya",
    "Sakura",
    "Freya",
    "Oscar",
    "Hugo",
    "Matilda",
    "Jack",
    "Charlotte",
    "Lachlan",
    "Ruby",
    "Ethan",
    "Mia",
    "Grace",
    "Daniel",
    "Hannah",
    "Lucas",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "García",
    "Martínez",
    "Nguyen",
    "Kim",
    "Park",
    "Tanaka",
    "Suzuki",
    "Patel",
    "Sharma",
    "Singh",
    "Chen",
    "Wang",
    "Li",
    "Müller",
    "Schmidt",
    "Jensen",
    "Andersson",
    "Kowalski",
    "Nowak",
    "O'Brien",
    "Murphy",
    "Ivanov",
    "Petrova",
    "Rossi",
    "Bianchi",
    "Dubois",
    "Lefèvre",
    "Okafor",
    "Mensah",
    "Haddad",
    "Yılmaz",
    "Silva",
    "Santos",
    "Costa",
    "Taylor",
    "Brown",
    "Wilson",
    "Ngata",
    "Walker",
    "Hernández",
    "López",
    "Åberg",
    "Żak",
    "Nakamura",
    "Thompson",
    "Clarke",
    "Campbell",
    "Moreau",
    "Fischer",
]
DOMAINS = ("example.com", "example.org", "example.net", "mail.example", "corp.example")
TENANTS = ("acme", "globex", "initech", "umbrella", "hooli")
# country code, weight, locale, phone factory (fictional / drama ranges only, so no real person gets a number)
PhoneFactory = Callable[[random.Random], str | None]


def _us_phone(rng: random.Random) -> str:
    return f"+1{rng.choice((212, 305, 312, 415, 503, 617, 646, 702, 808))}5550{rng.randint(100, 199)}"


def _ca_phone(rng: random.Random) -> str:
    return f"+1{rng.choice((416, 514, 604))}5550{rng.randint(100, 199)}"


def _gb_phone(rng: random.Random) -> str:
    return f"+447700900{rng.randint(0, 999):03d}"


def _au_phone(rng: random.Random) -> str:
    return f"+61491570{rng.randint(110, 159)}"


def _fr_phone(rng: random.Random) -> str:
    return f"+3363998{rng.randint(0, 9999):04d}"


def _no_phone(rng: random.Random) -> None:
    return None  # no fictional German mobile range: these users have no phone


COUNTRIES: list[tuple[str, int, str, PhoneFactory]] = [
    ("US", 40, "en-US", _us_phone),
    ("GB", 20, "en-GB", _gb_phone),
    ("AU", 12, "en-AU", _au_phone),
    ("CA", 8, "en-CA", _ca_phone),
    ("FR", 10, "fr-FR", _fr_phone),
    ("DE", 10, "de-DE", _no_phone),
]
IP_PREFIXES = ("192.0.2.", "198.51.100.", "203.0.113.")  # documentation ranges (RFC 5737)
ACTION_CODES = (
    ("signIn", 60),
    ("changePassword", 10),
    ("updateEmail", 8),
    ("withdrawFunds", 12),
    ("addAuthenticator", 10),
)
STATE_WEIGHTS = (30, 5, 8, 40, 8, 3, 3, 3)  # in ACTION_STATES order


class DemoBuilder:
    """Builds the demo users in the seed format; every random draw comes from one seeded Random."""

    def __init__(self, now: datetime, seed: int = DEMO_SEED):
        self.rng = random.Random(seed)
        self.now = now
        self.users: list[dict[str, Any]] = []
        self.user_ids: set[str] = set()
        self.emails: set[str] = set()

    def build(self, count: int = DEMO_USER_COUNT) -> list[dict[str, Any]]:
        self._stable_users()
        while len(self.users) < count:
            self._random_user()
        return self.users

    # --- helpers ---

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def ago(self, min_days: float, max_days: float) -> str:
        return format_timestamp(self.now - timedelta(days=self.rng.uniform(min_days, max_days)))

    def between(self, start: str, end: datetime | None = None) -> str:
        begin = parse_timestamp(start)
        span = ((end or self.now) - begin).total_seconds()
        return format_timestamp(begin + timedelta(seconds=self.rng.uniform(0, max(span, 0))))

    def add(self, user: dict[str, Any]) -> dict[str, Any]:
        self.users.append(user)
        self.user_ids.add(user["userId"])
        if user.get("email"):
            self.emails.add(user["email"])
        return user

    def authenticator(self, user: dict[str, Any], method: str, **fields: Any) -> dict[str, Any]:
        created_at = self.between(user["createdAt"])
        entry: dict[str, Any] = {
            "userAuthenticatorId": self.new_uuid(),
            "verificationMethod": method,
            "createdAt": created_at,
            **fields,
        }
        if self.rng.random() < 0.6:
            entry["lastVerifiedAt"] = self.between(created_at)
        user["authenticators"].append(entry)
        return entry

    def passkey(
        self,
        user: dict[str, Any],
        aaguid: str | None = None,
        name: str | None = None,
        agent: dict[str, Any] | None = None,
        method: str = "PASSKEY",
    ) -> dict[str, Any]:
        if aaguid is None:
            aaguid, _, devices = self.rng.choices(PASSKEY_PROVIDERS, weights=[p[1] for p in PASSKEY_PROVIDERS])[0]
            if not aaguid:
                aaguid = self.rng.choice(list(passkey_providers()))
            if devices:
                name, agent = self.rng.choice(devices)
        hardware = aaguid in SECURITY_KEY_AAGUIDS
        single = aaguid in SINGLE_DEVICE
        credential = webauthn_credential(
            credential_id=encode_base64url(self.rng.randbytes(64 if hardware else self.rng.choice((16, 20, 32)))),
            device_id=self.new_uuid(),
            name=name or provider_name(aaguid) or "Passkey",
            aaguid=aaguid,
            backed_up=not single,
            device_type="singleDevice" if single else "multiDevice",
            attachment="cross-platform" if hardware else "platform",
            user_agent=agent or self.rng.choice(DESKTOPS),
        )
        return self.authenticator(user, method, webauthnCredential=credential)

    def actions(self, user: dict[str, Any], count: int, country: str) -> None:
        authenticators = user["authenticators"]
        agents = [
            a["webauthnCredential"]["parsedUserAgent"]["ua"] for a in authenticators if "webauthnCredential" in a
        ] or [self.rng.choice((IPHONE, PIXEL, *DESKTOPS))["ua"]]
        for _ in range(count):
            # A few are older than the API's 30-day window, so the cut-off is visible.
            created_at = self.ago(31, 45) if self.rng.random() < 0.1 else self.ago(0.01, 29.5)
            state = self.rng.choices(ACTION_STATES, weights=STATE_WEIGHTS)[0]
            code = self.rng.choices([c for c, _ in ACTION_CODES], weights=[w for _, w in ACTION_CODES])[0]
            method = by = None
            if state.startswith("CHALLENGE_") and state != "CHALLENGE_REQUIRED" and authenticators:
                chosen = self.rng.choice(authenticators)
                method = chosen["verificationMethod"]
                by = chosen["userAuthenticatorId"] if state == "CHALLENGE_SUCCEEDED" else None
            updated = format_timestamp(parse_timestamp(created_at) + timedelta(seconds=self.rng.uniform(1, 90)))
            user["actions"].append(
                {
                    "actionCode": code,
                    "idempotencyKey": self.new_uuid(),
                    "createdAt": created_at,
                    "updatedAt": updated,
                    "state": state,
                    "stateUpdatedAt": updated,
                    "verificationMethod": method,
                    "verifiedByAuthenticatorId": by,
                    "userAgent": self.rng.choice(agents),
                    "ipAddress": f"{self.rng.choice(IP_PREFIXES)}{self.rng.randint(1, 254)}",
                    "countryCode": country,
                }
            )

    # --- the documented users ---

    def _stable_users(self) -> None:
        rng = self.rng
        alice = self.add(
            {
                "userId": "alice@example.com",
                "email": "alice@example.com",
                "emailVerified": True,
                "phoneNumber": "+14155550101",
                "phoneNumberVerified": True,
                "displayName": "Alice Liddell",
                "locale": "en-US",
                "defaultVerificationMethod": "PASSKEY",
                "createdAt": self.ago(400, 420),
                "authenticators": [],
                "actions": [],
            }
        )
        sms = self.authenticator(alice, "SMS", phoneNumber="+14155550101")
        passkey = self.passkey(alice, ICLOUD, "iPhone", IPHONE)
        self.authenticator(alice, "EMAIL_OTP", email="alice@example.com")
        for hours, code, state, chosen in (
            (1, "signIn", "CHALLENGE_SUCCEEDED", passkey),
            (50, "signIn", "CHALLENGE_SUCCEEDED", sms),
            (120, "changePassword", "CHALLENGE_FAILED", sms),
            (216, "signIn", "ALLOW", None),
            (480, "withdrawFunds", "BLOCK", None),
            (960, "signIn", "CHALLENGE_SUCCEEDED", passkey),  # 40 days ago: outside the API's window
        ):
            created_at = format_timestamp(self.now - timedelta(hours=hours))
            alice["actions"].append(
                {
                    "actionCode": code,
                    "idempotencyKey": self.new_uuid(),
                    "createdAt": created_at,
                    "state": state,
                    "verificationMethod": chosen["verificationMethod"] if chosen else None,
                    "verifiedByAuthenticatorId": chosen["userAuthenticatorId"]
                    if chosen and state == "CHALLENGE_SUCCEEDED"
                    else None,
                    "userAgent": IPHONE["ua"],
                    "ipAddress": "203.0.113.7" if state != "BLOCK" else "198.51.100.66",
                    "countryCode": "US" if state != "BLOCK" else "RO",
                }
            )

        bob = self.add(
            {
                "userId": "bob",
                "email": "bob@example.org",
                "phoneNumber": "+447700900123",
                "phoneNumberVerified": True,
                "username": "bob",
                "displayName": "Bob Jones",
                "locale": "en-GB",
                "createdAt": self.ago(200, 300),
                "authenticators": [],
                "actions": [],
            }
        )
        self.authenticator(bob, "SMS", phoneNumber="+447700900123")
        self.actions(bob, 3, "GB")

        carol = self.add(self._plain("carol", "carol@example.com", "Carol Danvers"))
        self.passkey(carol, ICLOUD, "MacBook Pro", MAC_SAFARI)
        self.passkey(carol, YUBIKEY_NFC, "YubiKey 5 NFC", WINDOWS_FIREFOX)
        self.actions(carol, 4, "US")

        self.add(self._plain("dave", "dave@example.com", "Dave Lister"))

        erin = self.add(self._plain("erin", "erin@example.com", "Erin Brockovich"))
        erin.update(phoneNumber="+14155550102", phoneNumberVerified=True)
        self.authenticator(erin, "SMS", phoneNumber="+14155550102")
        self.authenticator(erin, "SMS", phoneNumber="+14155550103")

        frank = self.add(self._plain("frank", "frank@example.net", "Frank Poole"))
        frank["phoneNumber"] = "+447700900456"
        self.authenticator(frank, "SMS", phoneNumber="+447700900456")
        self.authenticator(frank, "AUTHENTICATOR_APP")
        self.authenticator(frank, "WHATSAPP", phoneNumber="+447700900457")
        self.authenticator(frank, "PUSH", displayName="Frank's iPhone")
        self.passkey(frank, YUBIKEY, "Desk key", WINDOWS_CHROME, method="SECURITY_KEY")
        self.authenticator(frank, "RECOVERY_CODE")
        self.authenticator(frank, "SMART_CARD")  # not in today's enum: the dashboard must still show it
        self.actions(frank, 5, "GB")

        odd = [
            ("123:test", "EMAIL_MAGIC_LINK", {"email": "test123@example.com"}),
            ("ærøskøbing:42", "PASSKEY", {}),
            ("user name@corp", "SMS", {"phoneNumber": "+61491570142"}),
            ("team/ops/7", "EMAIL_OTP", {"email": "ops7@corp.example"}),
            ("100% real?", "EMAIL_OTP", {"email": "real@example.net"}),
            ("<b>not-bold</b>", "SMS", {"phoneNumber": "+447700900999"}),
        ]
        for user_id, method, fields in odd:
            user = self.add(self._plain(user_id, fields.get("email"), None))
            if "phoneNumber" in fields:
                user["phoneNumber"] = fields["phoneNumber"]
            if method == "PASSKEY":
                self.passkey(user, GOOGLE, "Pixel 8", PIXEL)
            else:
                self.authenticator(user, method, **fields)
            self.actions(user, rng.randint(0, 3), "US")

    def _plain(self, user_id: str, email: str | None, display_name: str | None) -> dict[str, Any]:
        user: dict[str, Any] = {
            "userId": user_id,
            "createdAt": self.ago(30, 700),
            "authenticators": [],
            "actions": [],
        }
        if email:
            user.update(email=email, emailVerified=True)
        if display_name:
            user["displayName"] = display_name
        return user

    # --- everyone else ---

    def _random_user(self) -> None:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        country, _, locale, phone_factory = rng.choices(COUNTRIES, weights=[c[1] for c in COUNTRIES])[0]
        email = self._email(first, last) if rng.random() < 0.9 else None
        phone = phone_factory(rng) if rng.random() < 0.65 else None
        user: dict[str, Any] = {
            "userId": self._user_id(first, last, email),
            "createdAt": self.ago(1, 1100),
            "locale": locale,
            "authenticators": [],
            "actions": [],
        }
        if email:
            user.update(email=email, emailVerified=rng.random() < 0.85)
        if phone:
            user.update(phoneNumber=phone, phoneNumberVerified=rng.random() < 0.8)
        if rng.random() < 0.3:
            user["username"] = f"{_ascii(first)}{_ascii(last)[:1]}{rng.randint(1, 999)}"
        if rng.random() < 0.7:
            user["displayName"] = f"{first} {last}"
        self.add(user)
        self._random_authenticators(user, first, last, phone_factory)
        if user["authenticators"]:
            self.actions(user, rng.choice((0, 0, 1, 2, 3, 4, 5, 6, 8)), country)

    def _random_authenticators(self, user: dict[str, Any], first: str, last: str, phone_factory: PhoneFactory) -> None:
        rng = self.rng

        def phone() -> str:
            return phone_factory(rng) or f"+447700900{rng.randint(0, 999):03d}"

        def add(kind: str, second: bool = False) -> None:
            if kind == "PASSKEY":
                self.passkey(user)
            elif kind in ("SMS", "WHATSAPP"):
                number = user.get("phoneNumber") if not second else None
                self.authenticator(user, kind, phoneNumber=number or phone())
            elif kind in ("EMAIL_OTP", "EMAIL_MAGIC_LINK"):
                address = user.get("email") if not second else None
                self.authenticator(user, kind, email=address or self._email(first, last))
            else:
                self.authenticator(user, kind)

        kinds, weights = (
            ["PASSKEY", "SMS", "EMAIL_OTP", "EMAIL_MAGIC_LINK", "AUTHENTICATOR_APP"],
            [35, 30, 20, 5, 10],
        )
        roll = rng.random()
        if roll < 0.13:
            return  # signed up, never enrolled
        if roll < 0.48:
            add(rng.choices(kinds, weights=weights)[0])
        elif roll < 0.60:
            kind = rng.choices(["PASSKEY", "SMS", "EMAIL_OTP"], weights=[5, 3, 2])[0]
            for index in range(3 if kind == "PASSKEY" and rng.random() < 0.25 else 2):
                add(kind, second=index > 0)
        else:
            chosen = rng.sample(kinds, rng.randint(2, 4))
            if rng.random() < 0.04:
                chosen.append(rng.choice(("WHATSAPP", "PUSH", "RECOVERY_CODE")))
            for kind in chosen:
                add(kind)
            if "PASSKEY" in chosen and rng.random() < 0.3:
                add("PASSKEY")

    def _email(self, first: str, last: str) -> str:
        rng = self.rng
        local = rng.choice(
            (
                f"{_ascii(first)}.{_ascii(last)}",
                f"{_ascii(first)}{_ascii(last)}",
                f"{_ascii(first)[:1]}.{_ascii(last)}",
                f"{_ascii(first)}_{_ascii(last)}",
                f"{_ascii(first)}+shop",
            )
        )
        domain = rng.choice(DOMAINS)
        candidate = f"{local}@{domain}"
        while candidate in self.emails:
            candidate = f"{local}{rng.randint(2, 999)}@{domain}"
        self.emails.add(candidate)
        return candidate

    def _user_id(self, first: str, last: str, email: str | None) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.30 and email:
            candidate = email
        elif roll < 0.55:
            candidate = self.new_uuid()
        elif roll < 0.70:
            candidate = "usr_" + "".join(rng.choices("0123456789abcdefghjkmnpqrstvwxyz", k=16))
        elif roll < 0.80:
            candidate = str(rng.randint(10_000, 99_999_999))
        elif roll < 0.90:
            candidate = f"{rng.choice(TENANTS)}:{rng.randint(1, 9999)}"
        else:
            candidate = rng.choice(
                (
                    f"{first} {last}",
                    f"{_ascii(first)}@{rng.choice(TENANTS)}",
                    f"urn:user:{rng.randint(1, 99999)}",
                )
            )
        while candidate in self.user_ids:
            candidate = f"{candidate}-{rng.randint(2, 99)}"
        return candidate


def demo_users(now: datetime, count: int = DEMO_USER_COUNT) -> list[dict[str, Any]]:
    """The demo data set in the seed format (same ids and contents on every run for the same count)."""
    return DemoBuilder(now).build(count)


def _ascii(name: str) -> str:
    """Lower-case ASCII for email local parts: "Łukasz" -> "lukasz", "O'Brien" -> "obrien"."""
    folded = unicodedata.normalize("NFKD", name.replace("ł", "l").replace("Ł", "L").replace("ø", "o").replace("Ø", "O"))
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum()).lower()
