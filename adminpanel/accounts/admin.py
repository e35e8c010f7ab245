"""Staff accounts in the Django admin: every change there (roles, accounts, second factors) needs a fresh step-up.

A role decides who may override the lockout guard and run bulk jobs, so granting one is as sensitive as using it.
allauth keeps the submitted form and replays it once the second factor has been checked.
"""

from __future__ import annotations

from typing import Any

from allauth.mfa.admin import AuthenticatorAdmin
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.http import HttpRequest, HttpResponse

from adminpanel.accounts.stepup import step_up_required

PURPOSE = "staff.roles"


class StepUpAdminMixin:
    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return step_up_required(super().changeform_view, purpose=PURPOSE)(request, *args, **kwargs)  # type: ignore[misc]

    def delete_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return step_up_required(super().delete_view, purpose=PURPOSE)(request, *args, **kwargs)  # type: ignore[misc]

    def changelist_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # A POST here is a bulk action (e.g. "delete selected").
        return step_up_required(super().changelist_view, purpose=PURPOSE)(request, *args, **kwargs)  # type: ignore[misc]


class StaffUserAdmin(StepUpAdminMixin, UserAdmin):
    def user_change_password(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return step_up_required(super().user_change_password, purpose=PURPOSE)(request, *args, **kwargs)


class RoleGroupAdmin(StepUpAdminMixin, GroupAdmin):
    pass


class StaffAuthenticatorAdmin(StepUpAdminMixin, AuthenticatorAdmin):
    pass


for model, model_admin in ((User, StaffUserAdmin), (Group, RoleGroupAdmin), (Authenticator, StaffAuthenticatorAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
