"""Audit URLs (DESIGN.md URL map): the list, one event, exports, verify now."""

from __future__ import annotations

from django.urls import path

from adminpanel.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.event_list, name="events-list"),
    path("export.csv", views.export_csv, name="export-csv"),
    path("export.jsonl", views.export_jsonl, name="export-jsonl"),
    path("verify/", views.verify_now, name="verify"),
    path("<uuid:event_id>/", views.event_detail, name="events-detail"),
]
