"""Template filters for the support desk: masked contacts, method labels and icons."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from django import template
from django.templatetags.static import static
from django.utils.timezone import localtime

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
    return _icon_url(_METHOD_ICONS.get(value or "", "other"))


@lru_cache(maxsize=16)
def _icon_url(name: str) -> str:
    return static(f"img/methods/{name}.svg")


@register.filter
def safe_icon(value: str | None) -> str:
    """A provider icon only when it is an inline image (data: URI); anything else is not loaded."""
    return value if value and value.startswith("data:image/") else ""


@register.filter
def label(authenticator: Authenticator) -> str:
    return authenticator_label(authenticator)


# Django's |date goes through the localisation machinery on every call; a table of authenticators or events
# formats a hundred dates per page, so these fixed English formats are done directly.
@register.filter
def day(value: datetime | None) -> str:
    """26 Nov 2026"""
    return f"{(v := localtime(value)).day} {v:%b %Y}" if value else ""


@register.filter
def day_time(value: datetime | None) -> str:
    """26 Nov 2026 10:52"""
    return f"{(v := localtime(value)).day} {v:%b %Y %H:%M}" if value else ""


@register.filter
def short_time(value: datetime | None) -> str:
    """26 Nov 10:52"""
    return f"{(v := localtime(value)).day} {v:%b %H:%M}" if value else ""


@register.filter
def stamp(value: datetime | None) -> str:
    """2026-11-26 10:52:07"""
    return f"{localtime(value):%Y-%m-%d %H:%M:%S}" if value else ""
