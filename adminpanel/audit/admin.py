"""The audit log in the (superuser-only) Django admin, strictly read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from adminpanel.audit.models import AuditEvent, ChainVerification


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "created_at", "actor_username", "action", "outcome", "user_id", "ticket")
    list_filter = ("outcome", "action", "actor_username")
    search_fields = ("reason", "user_id", "ticket")
    date_hierarchy = "created_at"
    ordering = ("-seq",)


@admin.register(ChainVerification)
class ChainVerificationAdmin(ReadOnlyAdmin):
    list_display = (
        "finished_at",
        "ok",
        "events_checked",
        "head_seq",
        "first_bad_seq",
        "source",
        "triggered_by",
    )
