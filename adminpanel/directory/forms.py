"""The support desk's input gate: every form validates and normalises (email, E.164 phone, base64url keys)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from adminpanel.authsignal.types import VerificationMethod
from adminpanel.directory.methods import ENROLLABLE

MAX_QUERY = 320  # the longest valid email address; anything longer is not a lookup we can answer
MAX_REASON = 1000
MAX_TICKET = 100
UNUSUAL_NUMBER = "This number looks unusual: numbering plans say its range is not in use. Searched for it exactly."
_PHONE_CHARS = re.compile(r"^[+\d\s().\-/]+$")
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


def normalise_email(value: str) -> str:
    """Valid email with the domain lower-cased (the local part is the user's own business)."""
    value = value.strip()
    validate_email(value)
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


@dataclass(frozen=True)
class PhoneReading:
    """How a typed phone number was read: E.164, and whether numbering plans say it is in use."""

    e164: str
    valid: bool
    where: str  # the country code and its region, e.g. "+44 (GB)"


def read_phone(value: str, region: str | None = None) -> PhoneReading:
    """Reads any common national or international format; ValidationError saying exactly why when it cannot.

    A *possible* number (the right length for its country) is read even when libphonenumber calls its range
    unassigned (`valid=False`): Authsignal stores numbers as given, and ranges such as the UK's 07700 900xxx
    exist on real accounts. Searching finds it; enrolling refuses it with the reason.
    """
    value = value.strip()
    region = region or settings.PHONE_DEFAULT_REGION
    if not value or not _PHONE_CHARS.match(value) or len(value) > 40:
        raise ValidationError("Enter a phone number, e.g. +44 7911 123456 or (415) 555-0101.", code="phone")
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise ValidationError("That is not a phone number we can read.", code="phone") from None
    typed_country = value.lstrip().startswith(("+", "00"))
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise ValidationError(_impossible(reason, number, region, typed_country), code="phone")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return PhoneReading(e164, phonenumbers.is_valid_number(number), _where(number))


def _where(number: phonenumbers.PhoneNumber) -> str:
    """ "+44 (GB)": the country code as typed or implied, and the region it belongs to."""
    region = phonenumbers.region_code_for_country_code(number.country_code or 0)
    return f"+{number.country_code}" + (f" ({region})" if region and region != "ZZ" else "")


def _impossible(reason: int, number: phonenumbers.PhoneNumber, region: str, typed_country: bool) -> str:
    if reason == phonenumbers.ValidationResult.INVALID_COUNTRY_CODE:
        return f"+{number.country_code} is not a country code. Check the digits after the +."
    how = {
        phonenumbers.ValidationResult.TOO_SHORT: "too short",
        phonenumbers.ValidationResult.TOO_LONG: "too long",
        phonenumbers.ValidationResult.INVALID_LENGTH: "not a length numbers have there",
        phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "too short (a local number without its area code)",
    }.get(reason, "not a possible number")
    if typed_country:
        return f"That number is {how} for {_where(number)}. Check the digits."
    return (
        f"Read as a {region} number (the default region, {_where(number)}), it is {how}. "
        "If it belongs to another country, type it with its country code, e.g. +44 7911 123456."
    )


def normalise_phone(value: str, region: str | None = None) -> str:
    """E.164 of a number in use; ValidationError with the precise reason otherwise (for enrolling)."""
    reading = read_phone(value, region)
    if not reading.valid:
        raise ValidationError(
            f"{reading.e164} has the right length for {reading.where}, but numbering plans say that range is not in "
            "use, so Authsignal could not send it a code. Check the number with the user.",
            code="phone",
        )
    return reading.e164


def normalise_base64url(value: str) -> str:
    """The value itself, once it is known to decode (Authsignal takes the base64url text, not the bytes)."""
    decode_base64url(value)
    return value.strip()


def decode_base64url(value: str) -> bytes:
    value = value.strip()
    if not value or not _BASE64URL.match(value):
        raise ValidationError("Use base64url characters only (A–Z, a–z, 0–9, - and _).", code="base64url")
    try:
        return base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise ValidationError("That is not valid base64url: it does not decode.", code="base64url") from None


class SearchForm(forms.Form):
    q = forms.CharField(max_length=MAX_QUERY, strip=True, required=True, label="Find a user")
    cursor = forms.CharField(max_length=1000, required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        query = data.get("q")
        if query:
            data["kind"], data["value"], data["note"] = classify_query(query)
        return data


def classify_query(query: str) -> tuple[str, str, str]:
    """What a search box entry means: ("email", normalised) | ("phone", E.164) | ("other", as typed), and a note.

    The note tells the agent what the dashboard made of it: a phone number that looks unusual (possible but not
    in use), or digits that are no phone number at all and were looked up as a username and user id instead.
    """
    if "@" in query and " " not in query:
        try:
            return "email", normalise_email(query), ""
        except ValidationError:
            pass
    if _PHONE_CHARS.match(query) and sum(ch.isdigit() for ch in query) >= 6:
        try:
            reading = read_phone(query)
        except ValidationError as exc:
            return "other", query, f"Not a phone number ({exc.messages[0]}) Searched as a username and user id."
        note = "" if reading.valid else UNUSUAL_NUMBER
        return "phone", reading.e164, note
    return "other", query, ""


class _ActionForm(forms.Form):
    reason = forms.CharField(
        max_length=MAX_REASON,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why you are doing this. Recorded in the audit log.",
    )
    ticket = forms.CharField(
        max_length=MAX_TICKET,
        strip=True,
        required=False,
        help_text="Support ticket, e.g. SUP-1234. Required for a lockout override.",
    )


class EnrollForm(_ActionForm):
    method = forms.ChoiceField(choices=list(ENROLLABLE.items()), widget=forms.HiddenInput)
    email = forms.CharField(max_length=320, required=False, label="Email address")
    phone_number = forms.CharField(max_length=40, required=False, label="Mobile number")
    credential_id = forms.CharField(max_length=2048, required=False, label="Credential ID (base64url)")
    credential_public_key = forms.CharField(
        max_length=4096,
        required=False,
        label="Credential public key (base64url)",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    name = forms.CharField(max_length=100, required=False, label="Passkey name (optional)")
    verified = forms.BooleanField(
        required=True,
        label="I confirm this contact was verified in our own system",
        error_messages={"required": "Tick the box to confirm the contact was verified in our own system."},
    )

    # What a switch of method keeps from what was already typed (the contact fields differ per method).
    KEPT_ON_SWITCH = ("reason", "ticket")

    FIELDS_BY_METHOD = {
        VerificationMethod.EMAIL_OTP: ["email"],
        VerificationMethod.EMAIL_MAGIC_LINK: ["email"],
        VerificationMethod.SMS: ["phone_number"],
        VerificationMethod.PASSKEY: ["credential_id", "credential_public_key", "name"],
    }

    def method_fields(self) -> list[forms.BoundField]:
        method = str(self.data.get("method") or self.initial.get("method") or "")
        return [self[name] for name in self.FIELDS_BY_METHOD.get(method, [])]  # type: ignore[call-overload]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        method = data.get("method")
        if method in (VerificationMethod.EMAIL_OTP, VerificationMethod.EMAIL_MAGIC_LINK):
            self._normalise(data, "email", normalise_email, "Enter the email address.")
        elif method == VerificationMethod.SMS:
            self._normalise(data, "phone_number", normalise_phone, "Enter the mobile number.")
        elif method == VerificationMethod.PASSKEY:
            for name in ("credential_id", "credential_public_key"):
                self._normalise(data, name, normalise_base64url, "This is required.")
        return data

    def _normalise(
        self, data: dict[str, Any], name: str, normaliser: Callable[[str], str], required_message: str
    ) -> None:
        raw = (data.get(name) or "").strip()
        if not raw:
            self.add_error(name, required_message)
            return
        try:
            data[name] = normaliser(raw)
        except ValidationError as exc:
            self.add_error(name, exc)

    def contact_fields(self) -> dict[str, str]:
        """The method-specific values to send, normalised; only those that belong to the chosen method."""
        data = self.cleaned_data
        return {k: data[k] for k in self.FIELDS_BY_METHOD[data["method"]] if data.get(k)}


class RemoveForm(_ActionForm):
    token = forms.CharField(max_length=2000, required=False, widget=forms.HiddenInput)
    # Whether an override is allowed, and has its ticket, is the removal service's to decide (and record).
    override_lockout = forms.BooleanField(
        required=False, label="Override the lockout guard: leave this user with no way to sign in"
    )
