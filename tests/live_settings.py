"""Settings for a dashboard that tests start as a real gunicorn process: production settings, plain static files.

Everything else (DEBUG off, logging, security middleware, the Authsignal client from the environment) is exactly
what production runs; only the static files are served from the source folders, so no collectstatic is needed.
"""

from __future__ import annotations

import os

from adminpanel.settings import *  # noqa: F403

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# The throttle test's own proof: with a per-process cache the right password must get through.
if os.environ.get("GUNICORN_TEST_CACHE") == "per-process":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
