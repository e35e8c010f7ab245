"""Production settings for the gunicorn throttle test; only static files are served from the source folders
(the hashed manifest of collectstatic does not exist in a checkout)."""

from __future__ import annotations

import os

from adminpanel.settings import *  # noqa: F403
from adminpanel.settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True

# The guard's own proof: with a per-process cache the same test must see the right password get through.
if os.environ.get("GUNICORN_TEST_CACHE") == "per-process":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
