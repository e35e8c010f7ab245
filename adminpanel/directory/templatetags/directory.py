"""Template filters for the support desk: masked contacts, method names and icons (directory/methods.py), dates."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.timezone import localtime

from adminpanel.authsignal.types import Authenticator
from adminpanel.core.masking import mask_contact
from adminpanel.directory import methods

register = template.Library()


@register.filter
def masked(value: str | None) -> str:
    return mask_contact(value) if value else ""


@register.filter
def method_name(value: str | None) -> str:
    return methods.method_label(value) if value else ""


@register.filter
def method_icon(value: str | None) -> str:
    return methods.method_icon(value or "")


@register.filter
def safe_icon(value: str | None) -> str:
    """A provider icon only when it is an inline image (data: URI); anything else is not loaded."""
    return value if value and value.startswith("data:image/") else ""


@register.filter
def label(authenticator: Authenticator) -> str:
    return methods.authenticator_label(authenticator)


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
