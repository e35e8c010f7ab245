"""Benchmark settings: production settings (DEBUG off, no query logging) reachable by the test client."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "bench-secret-key-" + "b" * 40)
os.environ.setdefault("AUDIT_CHAIN_KEY", "bench-audit-chain-key")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
os.environ.setdefault("EMULATOR_STORAGE", ":memory:")
os.environ.pop("AUTHSIGNAL_SECRET_KEY", None)

from adminpanel.settings import *  # noqa: E402,F403

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# The benches sign in with force_login, which passes no second factor: measure the pages, not the redirect to
# /account/ (STAFF_MFA_REQUIRED's check is one session lookup either way).
STAFF_MFA_REQUIRED = False
