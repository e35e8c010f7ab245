"""Settings, all read from the environment; the defaults run the demo with no configuration at all."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from adminpanel.audit.keys import DEFAULT_KEY_ID, contact_digest_key, parse_chain_keys
from adminpanel.core.env import envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("APP_VAR_DIR", str(BASE_DIR / "var")) or BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = envbool("DJANGO_DEBUG", False)

_secret = envstr("DJANGO_SECRET_KEY")
if not _secret:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    _secret = "insecure-development-key-do-not-use-in-production"
SECRET_KEY = _secret

ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "adminpanel.core.admin_site.SuperuserAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "adminpanel.core",
    "adminpanel.accounts",
    "adminpanel.authsignal",
    "adminpanel.audit",
    "adminpanel.directory",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "adminpanel.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "adminpanel.core.middleware.HtmxLoginRedirectMiddleware",
]

ROOT_URLCONF = "adminpanel.urls"
WSGI_APPLICATION = "adminpanel.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "adminpanel.core.context_processors.dashboard",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'adminpanel.sqlite3'}",
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions serialise writers up front instead of failing on lock upgrade (audit chain).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security: everything on unless DEBUG, each relaxable only explicitly. ---
SECURE_SSL_REDIRECT = envbool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # probes speak plain HTTP inside the cluster
SECURE_HSTS_SECONDS = envint("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = envbool("DJANGO_SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = envbool("DJANGO_CSRF_COOKIE_SECURE", not DEBUG)
if envbool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = envint("DJANGO_SESSION_AGE", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True  # htmx reads the token from <body hx-headers>, never from the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CSP = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
}

# --- Authsignal ---
AUTHSIGNAL_REGIONS = {
    "us": "https://api.authsignal.com/v1",
    "au": "https://au.api.authsignal.com/v1",
    "eu": "https://eu.api.authsignal.com/v1",
    "ca": "https://ca.api.authsignal.com/v1",
}
AUTHSIGNAL_SECRET_KEY = envstr("AUTHSIGNAL_SECRET_KEY") or ""
# No key: talk to the built-in emulator in-process.
AUTHSIGNAL_USE_EMULATOR = not AUTHSIGNAL_SECRET_KEY
_region = (envstr("AUTHSIGNAL_REGION") or "us").lower()
if _region not in AUTHSIGNAL_REGIONS:
    raise ImproperlyConfigured(f"AUTHSIGNAL_REGION must be one of {sorted(AUTHSIGNAL_REGIONS)}, not {_region!r}")
AUTHSIGNAL_REGION = _region
AUTHSIGNAL_API_URL = envstr("AUTHSIGNAL_API_URL") or AUTHSIGNAL_REGIONS[_region]
AUTHSIGNAL_CONNECT_TIMEOUT = float(envstr("AUTHSIGNAL_CONNECT_TIMEOUT", "3") or 3)
AUTHSIGNAL_READ_TIMEOUT = float(envstr("AUTHSIGNAL_READ_TIMEOUT", "10") or 10)
AUTHSIGNAL_RETRY_ATTEMPTS = envint("AUTHSIGNAL_RETRY_ATTEMPTS", 3)
AUTHSIGNAL_RETRY_MAX_WAIT = float(envstr("AUTHSIGNAL_RETRY_MAX_WAIT", "10") or 10)
EMULATOR_SECRET_KEY = "emulator-secret-key"
EMULATOR_STORAGE = envstr("EMULATOR_STORAGE", str(VAR_DIR / "emulator.sqlite3"))

# --- Audit ---
# Chain keys by id, oldest first: AUDIT_CHAIN_KEY is the one with id "default", AUDIT_CHAIN_KEYS adds
# id:key pairs after it; the newest signs once `audit rotate-key` has started its segment.
_chain_key = envstr("AUDIT_CHAIN_KEY")
_chain_keys = envstr("AUDIT_CHAIN_KEYS")
if not _chain_key and not (_chain_keys or "").strip():
    if not DEBUG:
        raise ImproperlyConfigured("AUDIT_CHAIN_KEY (or AUDIT_CHAIN_KEYS) must be set when DJANGO_DEBUG is off")
    _chain_key = "insecure-development-audit-chain-key"
AUDIT_CHAIN_KEYS = parse_chain_keys(_chain_keys, legacy=_chain_key)
AUDIT_CHAIN_KEY = AUDIT_CHAIN_KEYS.get(DEFAULT_KEY_ID)
# Contact digests must not change when the chain key rotates: by default they are keyed from the oldest chain key.
AUDIT_CONTACT_DIGEST_KEY = contact_digest_key(AUDIT_CHAIN_KEYS, envstr("AUDIT_CONTACT_DIGEST_KEY"))
PHONE_DEFAULT_REGION = (envstr("PHONE_DEFAULT_REGION") or "US").upper()
AUDIT_TRUST_X_FORWARDED_FOR = envbool("AUDIT_TRUST_X_FORWARDED_FOR", False)
# A filter matching more events than this is exported by a background worker instead of streamed.
AUDIT_EXPORT_BACKGROUND_OVER = envint("AUDIT_EXPORT_BACKGROUND_OVER", 50_000)
