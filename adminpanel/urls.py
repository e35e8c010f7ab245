"""URL map (docs/architecture.md): stable, users paste these into tickets."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from adminpanel.core import health, views

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("adminpanel.accounts.urls")),  # /login/, /logout/, /account/… (staff sign-in)
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("users/", include("adminpanel.directory.urls")),
    path("audit/", include("adminpanel.audit.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "adminpanel.audit.views.permission_denied"
handler429 = "adminpanel.accounts.views.too_many_requests"  # allauth's rate limits answer through it
