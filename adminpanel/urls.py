"""URL map (docs/architecture.md): stable, users paste these into tickets."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from adminpanel.core import health, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("users/", include("adminpanel.directory.urls")),
    path("audit/", include("adminpanel.audit.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "adminpanel.audit.views.permission_denied"
