"""The emulator's demo data set: deterministic users, built in the seed format (see seed_format.py).

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

Name lists, browsers (user agents) and passkey providers are data: demo_data/*.json beside this module.
"""

from __future__ import annotations

import json
import random
import unicodedata
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .authenticators import (
    SECURITY_KEY_AAGUIDS,
    encode_base64url,
    passkey_providers,
    provider_name,
    webauthn_credential,
)
from .wire import format_timestamp, parse_timestamp

_DATA = Path(__file__).with_name("demo_data")


def _load(name: str) -> Any:
    return json.loads((_DATA / name).read_text(encoding="utf-8"))


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


_NAMES = _load("names.json")
FIRST_NAMES: list[str] = _NAMES["first_names"]
LAST_NAMES: list[str] = _NAMES["last_names"]
DOMAINS: tuple[str, ...] = tuple(_NAMES["domains"])
TENANTS: tuple[str, ...] = tuple(_NAMES["tenants"])

# parsedUserAgent objects in ua-parser-js's shape (what Authsignal returns), by device name.
DEVICES: dict[str, dict[str, Any]] = _load("devices.json")
IPHONE, IPAD, MAC_SAFARI, MAC_CHROME = DEVICES["IPHONE"], DEVICES["IPAD"], DEVICES["MAC_SAFARI"], DEVICES["MAC_CHROME"]
PIXEL, GALAXY, LINUX_CHROME = DEVICES["PIXEL"], DEVICES["GALAXY"], DEVICES["LINUX_CHROME"]
WINDOWS_CHROME, WINDOWS_EDGE, WINDOWS_FIREFOX = (
    DEVICES["WINDOWS_CHROME"],
    DEVICES["WINDOWS_EDGE"],
    DEVICES["WINDOWS_FIREFOX"],
)
DESKTOPS = (MAC_CHROME, WINDOWS_CHROME, WINDOWS_EDGE, MAC_SAFARI, LINUX_CHROME)

# (aaguid, weight, [(passkey name, browser it was created in)]); no names means "the provider's name";
# an empty aaguid is the long tail: any provider from passkey_aaguids.json.
PASSKEY_PROVIDERS: list[tuple[str, int, list[tuple[str, dict[str, Any]]]]] = [
    (p["aaguid"], p["weight"], [(name, DEVICES[device]) for name, device in p["passkeys"]])
    for p in _load("passkey_providers.json")
]
SINGLE_DEVICE = {WINDOWS_HELLO, YUBIKEY_NFC, YUBIKEY}

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
