"""Settings for a dashboard that tests start as a real gunicorn process: production settings, plain static files.

Everything else (DEBUG off, logging, security middleware, the Authsignal client from the environment) is exactly
what production runs; only the static files are served from the source folders, so no collectstatic is needed.
"""

from __future__ import annotations

from adminpanel.settings import *  # noqa: F403

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
