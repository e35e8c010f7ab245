"""Template filters for the support desk: masked contacts, method names and icons (directory/methods.py), dates."""

from __future__ import annotations

from datetime import datetime

from django import template

from adminpanel.authsignal.types import Authenticator
from adminpanel.core import dates
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


@register.filter
def day(value: datetime | None) -> str:
    return dates.day(value)


@register.filter
def day_time(value: datetime | None) -> str:
    return dates.day_time(value)


@register.filter
def stamp(value: datetime | None) -> str:
    return dates.stamp(value)
