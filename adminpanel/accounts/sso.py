"""Single sign-on (OpenID Connect): which roles an identity provider's groups grant, and whether its MFA counts.

OIDC_ROLE_MAP maps IdP group names to our roles (`okta-support:Support,okta-sec:Security`). On every SSO sign-in
the staff member's role groups are set to exactly the mapped ones (the IdP is the source of truth for SSO users);
groups that are not roles are left alone and superuser status never comes from the IdP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from adminpanel.accounts.roles import ROLE_PERMISSIONS

if TYPE_CHECKING:
    from allauth.socialaccount.models import SocialLogin
    from django.contrib.auth.models import AbstractBaseUser

# RFC 8176: "mfa" says the IdP used more than one factor.
MFA_AMR = "mfa"


def role_map(raw: str | None = None) -> dict[str, str]:
    """OIDC_ROLE_MAP parsed: IdP group → role name; a malformed entry or an unknown role is refused."""
    raw = settings.OIDC_ROLE_MAP if raw is None else raw
    mapping: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in raw.split(","))):
        group, sep, role = entry.rpartition(":")
        group, role = group.strip(), role.strip()
        if not sep or not group:
            raise ImproperlyConfigured(f"OIDC_ROLE_MAP entry {entry!r} must look like idp-group:Role")
        if role not in ROLE_PERMISSIONS:
            raise ImproperlyConfigured(f"OIDC_ROLE_MAP entry {entry!r}: role must be one of {sorted(ROLE_PERMISSIONS)}")
        mapping[group] = role
    return mapping


def _claims(sociallogin: SocialLogin) -> tuple[dict[str, Any], dict[str, Any]]:
    data = sociallogin.account.extra_data or {}
    return data.get("userinfo") or {}, data.get("id_token") or {}


def idp_groups(sociallogin: SocialLogin) -> list[str]:
    """The groups the IdP sent (userinfo first, then the ID token), as a list of strings."""
    userinfo, id_token = _claims(sociallogin)
    claim = settings.OIDC_GROUPS_CLAIM
    value = userinfo.get(claim, id_token.get(claim, []))
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list):
        return []
    return [str(group) for group in value]


def mapped_roles(sociallogin: SocialLogin) -> list[str]:
    """The roles the IdP's groups grant, in a stable order."""
    mapping = role_map()
    return sorted({mapping[group] for group in idp_groups(sociallogin) if group in mapping})


def idp_did_mfa(sociallogin: SocialLogin | None) -> bool:
    """OIDC_TRUST_IDP_MFA is on and the ID token's `amr` claim says the IdP used more than one factor."""
    if not settings.OIDC_TRUST_IDP_MFA or sociallogin is None or sociallogin.account.provider != "sso":
        return False
    _, id_token = _claims(sociallogin)
    amr = id_token.get("amr")
    return isinstance(amr, list) and MFA_AMR in amr


def apply_roles(user: AbstractBaseUser, roles: list[str]) -> None:
    """Sets the user's role groups to exactly `roles`, leaving any other group untouched."""
    from django.contrib.auth.models import Group

    current = set(user.groups.filter(name__in=ROLE_PERMISSIONS).values_list("name", flat=True))  # type: ignore[attr-defined]
    wanted = set(roles)
    if current - wanted:
        user.groups.remove(*Group.objects.filter(name__in=current - wanted))  # type: ignore[attr-defined]
    if wanted - current:
        user.groups.add(*Group.objects.filter(name__in=wanted - current))  # type: ignore[attr-defined]
