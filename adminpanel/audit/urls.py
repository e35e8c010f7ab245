"""Audit URLs: the list, one event, exports (streamed or prepared), verify now."""

from __future__ import annotations

from django.urls import path

from adminpanel.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.event_list, name="events-list"),
    path("export.csv", views.export_csv, name="export-csv"),
    path("export.jsonl", views.export_jsonl, name="export-jsonl"),
    path("exports/", views.export_create, name="exports-create"),
    path("exports/options/", views.export_options, name="exports-options"),
    path("exports/<uuid:export_id>/", views.export_detail, name="exports-detail"),
    path("exports/<uuid:export_id>/download", views.export_download, name="exports-download"),
    path("verify/", views.verify_now, name="verify"),
    path("verify/status/", views.verify_status, name="verify-status"),
    path("<uuid:event_id>/", views.event_detail, name="events-detail"),
]
