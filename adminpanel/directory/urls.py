"""Support desk URLs; user ids pass through a reversible encoding (urlids.py) so `/` inside an id is safe."""

from __future__ import annotations

from django.urls import path, register_converter

from adminpanel.directory import views
from adminpanel.directory.urlids import UserIdConverter

register_converter(UserIdConverter, "user_id")

app_name = "users"
urlpatterns = [
    path("", views.user_search, name="list"),
    path("<user_id:user_id>/", views.user_detail, name="detail"),
    path("<user_id:user_id>/reveal/", views.reveal, name="reveal"),
    path("<user_id:user_id>/authenticators/enroll/", views.enroll, name="enroll"),
    path("<user_id:user_id>/authenticators/<str:authenticator_id>/remove/", views.remove, name="remove"),
]
