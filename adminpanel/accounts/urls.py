"""Sign-in URLs: /login/ and /logout/ as before, the staff member's own second factors and SSO under /account/.

Only the parts of allauth the dashboard uses are routed: no sign-up page, no e-mail or password-reset flows.
Each URL also carries allauth's own name (account_login, …), which allauth's code reverses.
"""

from __future__ import annotations

from allauth.account import views as account_views
from allauth.socialaccount import views as social_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from adminpanel.accounts import views

urlpatterns = [
    path("login/", views.login, name="login"),
    path("login/", views.login, name="account_login"),
    path("logout/", account_views.logout, name="logout"),
    path("logout/", account_views.logout, name="account_logout"),
    # Ours first: throttled answers are 429s, a refused passkey comes back to the step-up page.
    path("account/authenticate/", views.mfa_authenticate, name="mfa_authenticate"),
    path("account/reauthenticate/", views.mfa_reauthenticate, name="mfa_reauthenticate"),
    path("account/webauthn/reauthenticate/", views.mfa_reauthenticate_webauthn, name="mfa_reauthenticate_webauthn"),
    path("account/reauthenticate/password/", views.reauthenticate, name="account_reauthenticate"),
    path("account/inactive/", account_views.account_inactive, name="account_inactive"),
    path("account/", include("allauth.mfa.urls")),
    # Single sign-on (OpenID Connect): /account/oidc/sso/login/ and its callback …/login/callback/.
    path("account/sso/cancelled/", social_views.login_cancelled, name="socialaccount_login_cancelled"),
    path("account/sso/error/", login_not_required(social_views.login_error), name="socialaccount_login_error"),
    path("account/sso/signup/", social_views.signup, name="socialaccount_signup"),
    path("account/", include("allauth.socialaccount.providers.openid_connect.urls")),
]
