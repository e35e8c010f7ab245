"""Template filters for the support desk: masked contacts, method names and icons (directory/methods.py), dates."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.safestring import SafeString

from adminpanel.authsignal.types import Authenticator
from adminpanel.core import dates
from adminpanel.core.masking import mask_contact
from adminpanel.directory import methods, rows

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


@register.simple_tag
def authenticator_rows(
    authenticators: list[Authenticator], user_id: str, can_remove: bool, new_id: str | None = None
) -> SafeString:
    """The authenticators table's rows (directory/rows.py renders them from precomputed values)."""
    return rows.authenticator_rows(authenticators, user_id=user_id, can_remove=bool(can_remove), new_id=new_id)


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
