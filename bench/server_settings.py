"""Settings for a gunicorn a benchmark starts: production settings as the environment gives them (the Authsignal
URL and key included), static files served from the source folders (no collectstatic in a checkout)."""

from __future__ import annotations

from adminpanel.settings import *  # noqa: F403

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
