"""Masked display forms of contacts and a keyed digest of the full contact, for the audit log and the UI."""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import cache, lru_cache

import phonenumbers
from django.conf import settings

__all__ = [
    "contact_digest",
    "is_contact",
    "mask_contact",
    "mask_email",
    "mask_identifier",
    "mask_phone",
]


def mask_email(value: str) -> str:
    """'alice.smith@example.com' -> 'a***h@e***e.com': first/last char of local part and domain, and TLD."""
    value = (value or "").strip()
    local, at, domain = value.rpartition("@")
    if not at or not local:
        return "***"
    masked_local = _mask_word(local)
    name, dot, tld = domain.rpartition(".")
    if not dot or not name:
        return f"{masked_local}@{_mask_word(domain)}"
    return f"{masked_local}@{_mask_word(name)}.{tld}"


def mask_phone(value: str) -> str:
    """'+14155550101' -> '+1 ••• ••• 0101': the country code and the last four digits."""
    digits = "".join(ch for ch in (value or "") if ch.isdigit())
    last4 = digits[-4:] if len(digits) >= 4 else "••••"
    country = _country_code(value or "", settings.PHONE_DEFAULT_REGION)
    prefix = f"+{country} " if country else ""
    return f"{prefix}••• ••• {last4}"


@lru_cache(maxsize=4096)
def _country_code(value: str, region: str) -> int | None:
    # Parsing is the costly part of masking, and a page masks the same few numbers many times.
    try:
        return phonenumbers.parse(value, region).country_code
    except phonenumbers.NumberParseException:
        return None


def mask_contact(value: str) -> str:
    """Masks an email or a phone number, whichever the value is."""
    if not value:
        return ""
    return mask_email(value) if "@" in value else mask_phone(value)


_EMAIL_LIKE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_LIKE = re.compile(r"^\+[\d\s().-]{6,20}$")


def is_contact(value: str) -> bool:
    """Does this identifier carry a contact (an email address, or a phone number written with its country code)?

    Many tenants use the email or phone as the user id; such an id is masked wherever contacts are.
    """
    value = (value or "").strip()
    return bool(_EMAIL_LIKE.match(value) or (_PHONE_LIKE.match(value) and sum(c.isdigit() for c in value) >= 7))


def mask_identifier(value: str) -> str:
    """A user id or username as logs and audit summaries keep it: contacts masked, other ids shortened."""
    value = value or ""
    if is_contact(value):
        return mask_contact(value.strip())
    return value if len(value) <= 3 else f"{value[:2]}…{value[-1]}"


def contact_digest(value: str) -> str:
    """Hex HMAC-SHA256 of the normalised contact (lowercased email / E.164 phone), keyed from AUDIT_CONTACT_DIGEST_KEY.

    Lets an auditor answer "was this phone ever enrolled?" without the log holding the contact in clear.
    """
    key = _digest_key(settings.AUDIT_CONTACT_DIGEST_KEY)
    return hmac.new(key, _normalise(value).encode(), hashlib.sha256).hexdigest()


def _normalise(value: str) -> str:
    value = (value or "").strip()
    if "@" in value:
        return value.lower()
    return _e164(value, settings.PHONE_DEFAULT_REGION)


@lru_cache(maxsize=4096)
def _e164(value: str, region: str) -> str:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@cache
def _digest_key(chain_key: bytes) -> bytes:
    # A key of its own, derived from the chain key, so a digest can never be confused with a chain hash.
    return hmac.new(chain_key, b"contact-digest", hashlib.sha256).digest()


def _mask_word(word: str) -> str:
    if len(word) <= 1:
        return f"{word}***"
    return f"{word[0]}***{word[-1]}"
