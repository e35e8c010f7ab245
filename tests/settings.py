"""Test settings: production settings with test-only keys, an in-memory emulator and fast password hashing."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-" + "x" * 40)
os.environ.setdefault("AUDIT_CHAIN_KEY", "test-audit-chain-key")
os.environ.pop("AUTHSIGNAL_SECRET_KEY", None)  # tests always talk to the emulator unless a test says otherwise
os.environ.setdefault("EMULATOR_STORAGE", ":memory:")

from adminpanel.settings import *  # noqa: E402,F403
from adminpanel.settings import DATABASES  # noqa: E402

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
AUTHSIGNAL_RETRY_MAX_WAIT = 0.05
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so that threads in race and concurrency tests share one database.
    # One file per test run, so that parallel runs on one machine never share (and clobber) it.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("TEST_SQLITE_NAME")
        or os.path.join(tempfile.gettempdir(), f"adminpanel-test-{os.getpid()}.sqlite3")
    }
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = True
# Sign-in: each test process has its own cache (cleared per test); the shared database cache of production is
# exercised by tests/accounts/test_throttle_gunicorn.py. The second factor is required only where a test says so.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
STAFF_MFA_REQUIRED = False
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = False  # fido2 2 accepts http://localhost itself: the origin is really checked
