"""Django admin restricted to superusers: staff accounts and role membership only."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class SuperuserAdminSite(admin.AdminSite):
    site_header = "Authenticator Admin — accounts"
    site_title = "Authenticator Admin"

    def has_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser


class SuperuserAdminConfig(AdminConfig):
    default_site = "adminpanel.core.admin_site.SuperuserAdminSite"
