"""Template filters for the support desk: masked contacts, method labels and icons."""

from __future__ import annotations

from django import template
from django.templatetags.static import static

from adminpanel.authsignal.types import Authenticator, method_label
from adminpanel.core.masking import mask_contact
from adminpanel.directory.labels import authenticator_label

register = template.Library()

_METHOD_ICONS = {
    "SMS": "phone",
    "WHATSAPP": "phone",
    "EMAIL_OTP": "mail",
    "EMAIL_MAGIC_LINK": "mail",
    "PASSKEY": "key",
    "SECURITY_KEY": "key",
    "AUTHENTICATOR_APP": "app",
    "PUSH": "app",
    "DEVICE": "app",
}


@register.filter
def masked(value: str | None) -> str:
    return mask_contact(value) if value else ""


@register.filter
def method_name(value: str | None) -> str:
    return method_label(value) if value else ""


@register.filter
def method_icon(value: str | None) -> str:
    return static(f"img/methods/{_METHOD_ICONS.get(value or '', 'other')}.svg")


@register.filter
def safe_icon(value: str | None) -> str:
    """A provider icon only when it is an inline image (data: URI); anything else is not loaded."""
    return value if value and value.startswith("data:image/") else ""


@register.filter
def label(authenticator: Authenticator) -> str:
    return authenticator_label(authenticator)
