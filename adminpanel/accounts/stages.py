"""allauth's second-factor sign-in step, which also accepts an identity provider's MFA when that is trusted."""

from __future__ import annotations

from allauth.mfa.stages import AuthenticateStage
from django.http import HttpRequest

from adminpanel.accounts import second_factor, sso


class StaffAuthenticateStage(AuthenticateStage):
    def _should_handle(self, request: HttpRequest) -> bool:
        sociallogin = (self.login.signal_kwargs or {}).get("sociallogin")
        if self.login.user is not None and sso.idp_did_mfa(sociallogin):
            # OIDC_TRUST_IDP_MFA and the ID token says the IdP checked more than one factor.
            second_factor.mark_passed(request, self.login.user, "idp")
            return False
        return super()._should_handle(request)
