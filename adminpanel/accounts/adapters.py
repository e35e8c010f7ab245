"""How django-allauth behaves for staff: no sign-up, our client IP, second factors first, SSO roles from the IdP."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.core.exceptions import PermissionDenied

from adminpanel.accounts import second_factor, sso
from adminpanel.audit.services import DENIED, FAILED, Action, record
from adminpanel.core.client_ip import client_ip

if TYPE_CHECKING:
    from allauth.socialaccount.models import SocialLogin
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

THROTTLED = (
    "Too many failed attempts for this account or from this address. "
    "Wait a few minutes before you try again; the right password will not help until then."
)


class StaffAccountAdapter(DefaultAccountAdapter):
    error_messages = {**DefaultAccountAdapter.error_messages, "too_many_login_attempts": THROTTLED}

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Staff accounts are made by a superuser in /admin/ (or by SSO, see StaffSocialAccountAdapter)."""
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        """The same address the audit log records, so one setting decides whether a proxy is trusted."""
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine the client IP address")
        return ip

    def get_login_stages(self) -> list[str]:
        # Our second-factor stage also knows when an identity provider's MFA is trusted.
        return [
            "adminpanel.accounts.stages.StaffAuthenticateStage"
            if path == "allauth.mfa.stages.AuthenticateStage"
            else path
            for path in super().get_login_stages()
        ]

    def get_reauthentication_methods(self, user: Any) -> list[dict]:
        """A staff member with a second factor confirms with it (passkey first), never with the password alone."""
        methods = super().get_reauthentication_methods(user)
        factors = [m for m in methods if m["id"].startswith("mfa_reauthenticate")]
        if not factors:
            return methods
        return sorted(factors, key=lambda m: m["id"] != "mfa_reauthenticate:webauthn")

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """Managing one's own second factors needs no extra check within STAFF_STEP_UP_SECONDS of passing one,
        nor for registering the first one right after signing in."""
        request = self.request
        user = getattr(request, "user", None)
        if app == "allauth.mfa" and user is not None and user.is_authenticated:
            window = settings.STAFF_STEP_UP_SECONDS
            mark = second_factor.passed(request)
            if mark and time.time() - mark.get("at", 0) < window:
                return False
            if not second_factor.has_second_factor(user) and _signed_in_within(request, user, window):
                return False
        return super().is_reauthentication_required(app=app, **kwargs)


def _signed_in_within(request: HttpRequest, user: AbstractBaseUser, seconds: int) -> bool:
    records = get_authentication_records(request, user)
    signed_in = [r["at"] for r in records if r.get("method") in ("password", "socialaccount")]
    return bool(signed_in) and time.time() - signed_in[-1] < seconds


class StaffMFAAdapter(DefaultMFAAdapter):
    def get_public_key_credential_rp_entity(self) -> dict[str, str]:
        # The name a passkey manager shows next to the saved passkey.
        return {**super().get_public_key_credential_rp_entity(), "name": "Authenticator Admin"}


class StaffSocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        """SSO creates accounts; without a mapped group only when OIDC_SIGNUP_WITHOUT_ROLE is on (then with no role)."""
        if sso.mapped_roles(sociallogin) or settings.OIDC_SIGNUP_WITHOUT_ROLE:
            return True
        record(
            Action.STAFF_SSO_SIGNUP,
            DENIED,
            request=request,
            details={
                "refused": "no_mapped_group",
                "username": (sociallogin.user.get_username() if sociallogin.user else "")[:150],
                "groups": sso.idp_groups(sociallogin)[:50],
            },
        )
        return False

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        if sociallogin.is_existing and sociallogin.user is not None:
            sso.apply_roles(sociallogin.user, sso.mapped_roles(sociallogin))

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> AbstractBaseUser:
        user = super().save_user(request, sociallogin, form)
        sso.apply_roles(user, sso.mapped_roles(sociallogin))
        return user

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Any = None,
        extra_context: Any = None,
    ) -> None:
        record(
            Action.STAFF_LOGIN,
            FAILED,
            request=request,
            details={"method": "sso", "error": str(error or "unknown")[:64], "exception": type(exception).__name__},
        )
