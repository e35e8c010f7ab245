"""Values every page needs: which Authsignal we talk to, the staff member's roles, the navigation."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest

from adminpanel.accounts.roles import perm, role_names


def dashboard(request: HttpRequest) -> dict[str, object]:
    user = request.user
    nav: list[tuple[str, str, str]] = []
    if user.is_authenticated:
        if user.has_perm(perm("view_directory")):
            nav.append(("users", "Users", "/users/"))
        if user.has_perm(perm("view_audit")):
            nav.append(("audit", "Audit", "/audit/"))
    return {
        "authsignal_emulator": settings.AUTHSIGNAL_USE_EMULATOR,
        "phone_region": settings.PHONE_DEFAULT_REGION,
        "authsignal_target": "" if settings.AUTHSIGNAL_USE_EMULATOR else _describe_target(),
        "staff_roles": role_names(user),
        "nav_items": nav,
        "nav_active": (request.resolver_match.app_name or "") if request.resolver_match else "",
    }


def _describe_target() -> str:
    url = settings.AUTHSIGNAL_API_URL
    for region, base in settings.AUTHSIGNAL_REGIONS.items():
        if url == base:
            return f"Authsignal {region.upper()} region ({urlsplit(url).netloc})"
    return f"Authsignal at {url}"
