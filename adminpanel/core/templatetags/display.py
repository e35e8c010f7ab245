"""Template filters for text from outside: `|uid` for user ids, `|outside` for names (see core/display.py)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from adminpanel.core.display import shown_id, visible

register = template.Library()


@register.filter
def uid(value: str | None) -> SafeString | str:
    """A user id: masked if it is an email or phone number, controls visible, isolated from its neighbours."""
    if not value:
        return ""
    return format_html('<bdi class="uid">{}</bdi>', shown_id(value))


@register.filter
def outside(value: str | None) -> SafeString | str:
    """A username, display name or passkey name: controls visible, isolated from its neighbours."""
    if not value:
        return ""
    return format_html("<bdi>{}</bdi>", visible(str(value)))


@register.filter
def uid_text(value: str | None) -> str:
    """A user id for plain-text places (a page title): masked if a contact, controls visible."""
    return shown_id(value) if value else ""
