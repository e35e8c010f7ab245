"""Support desk: search users, view, enroll and remove authenticators."""

from __future__ import annotations

from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "adminpanel.directory"
    label = "directory"

    def ready(self) -> None:
        from adminpanel.directory import settlement  # noqa: F401 - registers reconcile's settlers
