"""The support desk's input gate: every form validates and normalises (email, E.164 phone, base64url keys)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
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
_PHONE_CHARS = re.compile(r"^[+\d\s().\-/]+$")
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


def normalise_email(value: str) -> str:
    """Valid email with the domain lower-cased (the local part is the user's own business)."""
    value = value.strip()
    validate_email(value)
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalise_phone(value: str, region: str | None = None) -> str:
    """E.164 from any common national or international format; ValidationError if it is not a real number."""
    value = value.strip()
    if not value or not _PHONE_CHARS.match(value) or len(value) > 40:
        raise ValidationError("Enter a phone number, e.g. +44 7700 900123 or (415) 555-0101.", code="phone")
    try:
        number = phonenumbers.parse(value, region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError("That is not a phone number we can read.", code="phone") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            "That phone number is not valid for its country. Include the country code, e.g. +44.",
            code="phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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
        data = super().clean()
        query = data.get("q")
        if query:
            data["kind"], data["value"] = classify_query(query)
        return data


def classify_query(query: str) -> tuple[str, str]:
    """("email", normalised) | ("phone", E.164) | ("other", as typed) — what a search box entry means."""
    if "@" in query and " " not in query:
        try:
            return "email", normalise_email(query)
        except ValidationError:
            pass
    if _PHONE_CHARS.match(query) and sum(ch.isdigit() for ch in query) >= 6:
        try:
            return "phone", normalise_phone(query)
        except ValidationError:
            pass
    return "other", query


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
        help_text="Support ticket, e.g. SUP-1234 (optional).",
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

    FIELDS_BY_METHOD = {
        VerificationMethod.EMAIL_OTP: ["email"],
        VerificationMethod.EMAIL_MAGIC_LINK: ["email"],
        VerificationMethod.SMS: ["phone_number"],
        VerificationMethod.PASSKEY: ["credential_id", "credential_public_key", "name"],
    }

    def method_fields(self) -> list[forms.BoundField]:
        method = self.data.get("method") or self.initial.get("method")
        return [self[name] for name in self.FIELDS_BY_METHOD.get(method, [])]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
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
