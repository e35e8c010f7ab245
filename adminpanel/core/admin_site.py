"""Django admin restricted to superusers: staff accounts and role membership only.

Its own sign-in form is never used: /admin/login/ sends to the dashboard's sign-in (/login/), so the admin gets the
same rate limits and second factor as every other page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache


class SuperuserAdminSite(admin.AdminSite):
    site_header = "Authenticator Admin — accounts"
    site_title = "Authenticator Admin"

    def has_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        from django.contrib.auth.views import redirect_to_login  # not at import: this module loads before the apps

        next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = ""
        next_url = next_url or reverse("admin:index", current_app=self.name)
        if request.user.is_authenticated:
            if not self.has_permission(request):
                raise PermissionDenied("Django admin is for superusers only")
            return HttpResponseRedirect(next_url)
        return redirect_to_login(next_url, reverse("login"))


class SuperuserAdminConfig(AdminConfig):
    default_site = "adminpanel.core.admin_site.SuperuserAdminSite"
