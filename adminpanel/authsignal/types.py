"""Typed results of the Authsignal Server API, parsed leniently from its camelCase JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Self

from adminpanel.authsignal.errors import unexpected_shape

__all__ = [
    "AaguidMapping",
    "ActionState",
    "Authenticator",
    "AuthenticatorAttachment",
    "CredentialDeviceType",
    "DeleteResult",
    "EnrollResult",
    "ParsedUserAgent",
    "SmsChannel",
    "User",
    "UserAction",
    "UserAgentBrowser",
    "UserPage",
    "UserSummary",
    "VerificationMethod",
    "WebauthnCredential",
    "parse_enum",
    "parse_timestamp",
]


class VerificationMethod(StrEnum):
    SMS = "SMS"
    EMAIL_OTP = "EMAIL_OTP"
    EMAIL_MAGIC_LINK = "EMAIL_MAGIC_LINK"
    AUTHENTICATOR_APP = "AUTHENTICATOR_APP"
    PASSKEY = "PASSKEY"
    SECURITY_KEY = "SECURITY_KEY"
    PUSH = "PUSH"
    DEVICE = "DEVICE"
    VERIFF = "VERIFF"
    IPROOV = "IPROOV"
    IDVERSE = "IDVERSE"
    PALM_BIOMETRICS_RR = "PALM_BIOMETRICS_RR"
    RECOVERY_CODE = "RECOVERY_CODE"
    WHATSAPP = "WHATSAPP"


class ActionState(StrEnum):
    ALLOW = "ALLOW"
    BLOCK = "BLOCK"
    CHALLENGE_REQUIRED = "CHALLENGE_REQUIRED"
    CHALLENGE_SUCCEEDED = "CHALLENGE_SUCCEEDED"
    CHALLENGE_FAILED = "CHALLENGE_FAILED"
    REVIEW_REQUIRED = "REVIEW_REQUIRED"
    REVIEW_SUCCEEDED = "REVIEW_SUCCEEDED"
    REVIEW_FAILED = "REVIEW_FAILED"


class SmsChannel(StrEnum):
    DEFAULT = "DEFAULT"
    WHATSAPP = "WHATSAPP"


class CredentialDeviceType(StrEnum):
    SINGLE_DEVICE = "singleDevice"
    MULTI_DEVICE = "multiDevice"


class AuthenticatorAttachment(StrEnum):
    PLATFORM = "platform"
    CROSS_PLATFORM = "cross-platform"


def parse_enum(enum_cls: type[StrEnum], value: object) -> str | None:
    """A known value becomes its enum member; an unknown (future) value is kept as the plain string."""
    if not isinstance(value, str):
        return None
    try:
        return enum_cls(value)
    except ValueError:
        return value


def parse_timestamp(value: object) -> datetime | None:
    """An aware UTC datetime from ISO 8601 (`2024-05-13T04:59:02.640Z`); None if absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:  # the API speaks UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


class _Fields:
    """Typed, tolerant access to one JSON object: wrong-typed optional values become None, never a crash."""

    __slots__ = ("_data", "_what")

    def __init__(self, data: object, what: str) -> None:
        if not isinstance(data, Mapping):
            raise unexpected_shape(f"expected {what} to be an object, got {type(data).__name__}")
        self._data: Mapping[str, Any] = data
        self._what = what

    def required_text(self, key: str) -> str:
        value = self._data.get(key)
        if not isinstance(value, str) or not value:
            raise unexpected_shape(f"{self._what} has no {key!r}")
        return value

    def text(self, key: str) -> str | None:
        value = self._data.get(key)
        return value if isinstance(value, str) else None

    def flag(self, key: str) -> bool | None:
        value = self._data.get(key)
        return value if isinstance(value, bool) else None

    def time(self, key: str) -> datetime | None:
        return parse_timestamp(self._data.get(key))

    def choice(self, key: str, enum_cls: type[StrEnum]) -> str | None:
        return parse_enum(enum_cls, self._data.get(key))

    def required_choice(self, key: str, enum_cls: type[StrEnum]) -> str:
        return parse_enum(enum_cls, self.required_text(key)) or ""

    def methods(self, key: str) -> tuple[str, ...]:
        return tuple(m for item in self.items(key) or () if (m := parse_enum(VerificationMethod, item)))

    def texts(self, key: str) -> tuple[str, ...]:
        return tuple(item for item in self.items(key) or () if isinstance(item, str))

    def items(self, key: str) -> list[Any] | None:
        value = self._data.get(key)
        return value if isinstance(value, list) else None

    def mapping(self, key: str) -> Mapping[str, Any] | None:
        value = self._data.get(key)
        return value if isinstance(value, Mapping) else None

    def readonly_mapping(self, key: str) -> Mapping[str, Any] | None:
        # Frozen results should not hand out a mutable dict (e.g. the user's `custom` data).
        value = self.mapping(key)
        return MappingProxyType(dict(value)) if value is not None else None


@dataclass(frozen=True, slots=True)
class User:
    """GET /users/{userId}; an unknown user is not an error but `is_enrolled=False` with nothing else."""

    is_enrolled: bool
    user_id: str | None = None  # not in GET's answer (the client fills it in); present in PATCH's
    email: str | None = None
    email_verified: bool | None = None
    phone_number: str | None = None
    phone_number_verified: bool | None = None
    username: str | None = None
    display_name: str | None = None
    allowed_verification_methods: tuple[str, ...] = ()
    enrolled_verification_methods: tuple[str, ...] = ()
    default_verification_method: str | None = None
    custom: Mapping[str, Any] | None = None
    locale: str | None = None

    @classmethod
    def from_api(cls, data: object, *, user_id: str | None = None) -> Self:
        f = _Fields(data, "the user")
        return cls(
            is_enrolled=f.flag("isEnrolled") or False,
            user_id=f.text("userId") or user_id,
            email=f.text("email"),
            email_verified=f.flag("emailVerified"),
            phone_number=f.text("phoneNumber"),
            phone_number_verified=f.flag("phoneNumberVerified"),
            username=f.text("username"),
            display_name=f.text("displayName"),
            allowed_verification_methods=f.methods("allowedVerificationMethods"),
            enrolled_verification_methods=f.methods("enrolledVerificationMethods"),
            default_verification_method=f.choice("defaultVerificationMethod", VerificationMethod),
            custom=f.readonly_mapping("custom"),
            locale=f.text("locale"),
        )


@dataclass(frozen=True, slots=True)
class UserSummary:
    """One item of a user query (GET /users?…)."""

    user_id: str
    is_enrolled: bool = False
    email: str | None = None
    email_verified: bool | None = None
    phone_number: str | None = None
    phone_number_verified: bool | None = None
    username: str | None = None
    display_name: str | None = None
    enrolled_verification_methods: tuple[str, ...] = ()
    created_at: datetime | None = None

    @classmethod
    def from_api(cls, data: object) -> Self:
        f = _Fields(data, "a user in the query result")
        return cls(
            user_id=f.required_text("userId"),
            is_enrolled=f.flag("isEnrolled") or False,
            email=f.text("email"),
            email_verified=f.flag("emailVerified"),
            phone_number=f.text("phoneNumber"),
            phone_number_verified=f.flag("phoneNumberVerified"),
            username=f.text("username"),
            display_name=f.text("displayName"),
            enrolled_verification_methods=f.methods("enrolledVerificationMethods"),
            created_at=f.time("createdAt"),
        )


@dataclass(frozen=True, slots=True)
class UserPage:
    """A page of query results; `next_cursor` (the API's lastEvaluatedUserId) is None on the last page."""

    users: tuple[UserSummary, ...]
    next_cursor: str | None = None

    @classmethod
    def from_api(cls, data: object) -> Self:
        f = _Fields(data, "the query result")
        users = f.items("users")
        if users is None:
            raise unexpected_shape("the query result has no 'users' list")
        return cls(
            users=tuple(UserSummary.from_api(item) for item in users),
            next_cursor=f.text("lastEvaluatedUserId") or None,
        )


@dataclass(frozen=True, slots=True)
class AaguidMapping:
    """What the passkey provider is (from its AAGUID): name and icons."""

    name: str | None = None
    svg_icon_light: str | None = None
    svg_icon_dark: str | None = None

    @classmethod
    def from_api(cls, data: object) -> Self:
        f = _Fields(data, "aaguidMapping")
        return cls(name=f.text("name"), svg_icon_light=f.text("svgIconLight"), svg_icon_dark=f.text("svgIconDark"))


@dataclass(frozen=True, slots=True)
class UserAgentBrowser:
    name: str | None = None
    version: str | None = None
    major: str | None = None

    @classmethod
    def from_api(cls, data: object) -> Self:
        f = _Fields(data, "parsedUserAgent.browser")
        return cls(name=f.text("name"), version=f.text("version"), major=f.text("major"))


@dataclass(frozen=True, slots=True)
class ParsedUserAgent:
    """The browser that registered a passkey, as parsed by Authsignal (ua-parser-js shape).

    `device`, `engine`, `os` and `cpu` are kept as read-only mappings of their string fields
    (e.g. os = {"name": "iOS", "version": "17.4"}), since the UI only ever prints them.
    """

    ua: str | None = None
    browser: UserAgentBrowser | None = None
    device: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    engine: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    os: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    cpu: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_api(cls, data: object) -> Self:
        f = _Fields(data, "parsedUserAgent")
        browser = f.mapping("browser")

        def strings_of(key: str) -> Mapping[str, str]:
            part = f.mapping(key) or {}
            return MappingProxyType({k: v for k, v in part.items() if isinstance(k, str) and isinstance(v, str)})

        return cls(
            ua=f.text("ua"),
            browser=UserAgentBrowser.from_api(browser) if browser is not None else None,
            device=strings_of("device"),
            engine=strings_of("engine"),
            os=strings_of("os"),
            cpu=strings_of("cpu"),
        )

    @property
    def summary(self) -> str:
        """e.g. "Safari 17 on iOS 17.4"; "" when nothing is known."""
        browser = " ".join(p for p in (self.browser.name, self.browser.major) if p) if self.browser else ""
        system = " ".join(p for p in (self.os.get("name"), self.os.get("version")) if p)
        return " on ".join(p for p in (browser, system) if p)


@dataclass(frozen=True, slots=True)
class WebauthnCredential:
    """The passkey part of an authenticator (`webauthnCredential`)."""

    credential_id: str | None = None
    device_id: str | None = None
    name: str | None = None
    aaguid: str | None = None
    aaguid_mapping: AaguidMapping | None = None
    credential_backed_up: bool | None = None
    credential_device_type: str | None = None  # CredentialDeviceType, or an unknown future value
    authenticator_attachment: str | None = None  # AuthenticatorAttachment, or an unknown future value
    parsed_user_agent: ParsedUserAgent | None = None

    @classmethod
    def from_api(cls, data: object) -> Self:
        f = _Fields(data, "webauthnCredential")
        mapping = f.mapping("aaguidMapping")
        user_agent = f.mapping("parsedUserAgent")
        return cls(
            credential_id=f.text("credentialId"),
            device_id=f.text("deviceId"),
            name=f.text("name"),
            aaguid=f.text("aaguid"),
            aaguid_mapping=AaguidMapping.from_api(mapping) if mapping is not None else None,
            credential_backed_up=f.flag("credentialBackedUp"),
            credential_device_type=f.choice("credentialDeviceType", CredentialDeviceType),
            authenticator_attachment=f.choice("authenticatorAttachment", AuthenticatorAttachment),
            parsed_user_agent=ParsedUserAgent.from_api(user_agent) if user_agent is not None else None,
        )

    @property
    def provider(self) -> str | None:
        """The passkey provider's name ("iCloud Keychain"), when Authsignal recognised the AAGUID."""
        return self.aaguid_mapping.name if self.aaguid_mapping else None


@dataclass(frozen=True, slots=True)
class Authenticator:
    """One item of GET /users/{userId}/authenticators."""

    user_authenticator_id: str
    verification_method: str  # VerificationMethod, or an unknown future value kept as sent
    created_at: datetime | None = None  # documented as required; a bad value is kept as None, not fatal
    user_id: str | None = None
    email: str | None = None
    phone_number: str | None = None
    username: str | None = None
    # The API's own `displayName` (an authenticator's, e.g. a push device's name).
    given_display_name: str | None = None
    verified_at: datetime | None = None
    last_verified_at: datetime | None = None
    previous_sms_channel: str | None = None  # SmsChannel, or an unknown future value
    webauthn_credential: WebauthnCredential | None = None

    @classmethod
    def from_api(cls, data: object) -> Self:
        f = _Fields(data, "an authenticator")
        credential = f.mapping("webauthnCredential")
        return cls(
            user_authenticator_id=f.required_text("userAuthenticatorId"),
            verification_method=f.required_choice("verificationMethod", VerificationMethod),
            created_at=f.time("createdAt"),
            user_id=f.text("userId"),
            email=f.text("email"),
            phone_number=f.text("phoneNumber"),
            username=f.text("username"),
            given_display_name=f.text("displayName"),
            verified_at=f.time("verifiedAt"),
            last_verified_at=f.time("lastVerifiedAt"),
            previous_sms_channel=f.choice("previousSmsChannel", SmsChannel),
            webauthn_credential=WebauthnCredential.from_api(credential) if credential is not None else None,
        )


@dataclass(frozen=True, slots=True)
class EnrollResult:
    """POST /users/{userId}/authenticators: the new authenticator and, the first time, recovery codes."""

    authenticator: Authenticator
    # Secrets: kept out of repr() so they never land in a log line or a traceback.
    recovery_codes: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def from_api(cls, data: object) -> Self:
        f = _Fields(data, "the enrollment result")
        authenticator = f.mapping("authenticator")
        if authenticator is None:
            raise unexpected_shape("the enrollment result has no 'authenticator'")
        return cls(authenticator=Authenticator.from_api(authenticator), recovery_codes=f.texts("recoveryCodes"))


@dataclass(frozen=True, slots=True)
class UserAction:
    """One item of GET /users/{userId}/actions (the last 30 days of activity)."""

    action_code: str
    idempotency_key: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    state: str | None = None  # ActionState, or an unknown future value
    state_updated_at: datetime | None = None
    verification_method: str | None = None
    verified_by_authenticator_id: str | None = None
    user_agent: str | None = None
    ip_address: str | None = None
    country_code: str | None = None

    @classmethod
    def from_api(cls, data: object) -> Self:
        f = _Fields(data, "a user action")
        return cls(
            action_code=f.required_text("actionCode"),
            idempotency_key=f.text("idempotencyKey"),
            created_at=f.time("createdAt"),
            updated_at=f.time("updatedAt"),
            state=f.choice("state", ActionState),
            state_updated_at=f.time("stateUpdatedAt"),
            verification_method=f.choice("verificationMethod", VerificationMethod),
            verified_by_authenticator_id=f.text("verifiedByAuthenticatorId"),
            user_agent=f.text("userAgent"),
            ip_address=f.text("ipAddress"),
            country_code=f.text("countryCode"),
        )


@dataclass(frozen=True, slots=True)
class DeleteResult:
    """Outcome of a DELETE that did not fail.

    `already_gone`: Authsignal said 404, so there was nothing (left) to delete. `after_retry`: the final
    answer came on a retry, so an earlier attempt may have been the one that deleted it.
    """

    already_gone: bool = False
    after_retry: bool = False
