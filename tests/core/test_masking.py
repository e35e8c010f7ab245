"""Masked contacts and keyed digests (adminpanel.core.masking)."""

from __future__ import annotations

from adminpanel.core.masking import contact_digest, mask_contact, mask_email, mask_phone


def test_mask_email_keeps_first_and_last_characters_and_the_tld():
    assert mask_email("alice.smith@example.com") == "a***h@e***e.com"
    assert mask_email("a@x.io") == "a***@x***.io"
    assert mask_email("not-an-email") == "***"


def test_mask_phone_keeps_country_code_and_last_four_digits():
    assert mask_phone("+14155550101") == "+1 ••• ••• 0101"
    assert mask_phone("+447700900123") == "+44 ••• ••• 0123"


def test_mask_contact_dispatches_on_the_kind_of_contact():
    assert mask_contact("bob@example.org") == "b***b@e***e.org"
    assert mask_contact("+14155550101") == "+1 ••• ••• 0101"
    assert mask_contact("") == ""


def test_contact_digest_is_keyed_and_normalised():
    assert contact_digest("Alice@Example.COM") == contact_digest("alice@example.com")
    assert contact_digest("+1 (415) 555-0101") == contact_digest("+14155550101")
    assert contact_digest("alice@example.com") != contact_digest("bob@example.com")
    assert len(contact_digest("alice@example.com")) == 64
    assert "alice" not in contact_digest("alice@example.com")


def test_contact_digest_depends_on_its_key(settings):
    before = contact_digest("alice@example.com")
    settings.AUDIT_CONTACT_DIGEST_KEY = b"another-key"
    assert contact_digest("alice@example.com") != before
