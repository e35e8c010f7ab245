"""Settings, all read from the environment; the defaults run the demo with no configuration at all."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

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
    "django.forms",
    "django_htmx",
    "django_tasks_db",
    "adminpanel.core",
    "adminpanel.accounts",
    "adminpanel.authsignal",
    "adminpanel.audit",
    "adminpanel.directory",
    # Staff sign-in (django-allauth): password, second factors, SSO.
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "adminpanel.core.middleware.RequestIdMiddleware",
    "adminpanel.core.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "adminpanel.accounts.middleware.StaffSessionTimeoutMiddleware",
    "adminpanel.accounts.middleware.SecondFactorRequiredMiddleware",
    "adminpanel.core.middleware.HtmxLoginRedirectMiddleware",
]

ROOT_URLCONF = "adminpanel.urls"
FORM_RENDERER = "adminpanel.core.forms.DashboardFormRenderer"
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
                "adminpanel.accounts.context_processors.second_factor_context",
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
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

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
CSRF_FAILURE_VIEW = "adminpanel.audit.views.csrf_failure"  # recorded like every other refusal
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

LOG_LEVEL = (envstr("LOG_LEVEL") or "INFO").upper()
# One handler, with the privacy filter; Django's own loggers are routed to it instead of Django's default handlers.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_personal_data": {"()": "adminpanel.core.log_privacy.MaskPersonalData"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["mask_personal_data"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.server": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
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

# --- Staff sign-in (django-allauth): second factor, step-up, throttling, sessions, SSO ---
# Rate limits and used TOTP codes live in the cache, so it must be shared by every worker: the database
# (table made by a migration) unless REDIS_URL points at Redis.
_redis_url = envstr("REDIS_URL")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis_url}
    if _redis_url
    else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "adminpanel_cache"}
}
STAFF_MFA_REQUIRED = envbool("STAFF_MFA_REQUIRED", not DEBUG)
STAFF_STEP_UP_SECONDS = envint("STAFF_STEP_UP_SECONDS", 300)
STAFF_IDLE_TIMEOUT_SECONDS = envint("STAFF_IDLE_TIMEOUT_SECONDS", 15 * 60)
# The absolute limit is SESSION_COOKIE_AGE (DJANGO_SESSION_AGE, 8 hours).

ACCOUNT_ADAPTER = "adminpanel.accounts.adapters.StaffAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]  # sign-up itself is closed (the adapter says so)
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False  # the session ends with the browser, as before
ACCOUNT_LOGOUT_REDIRECT_URL = "login"
ACCOUNT_REAUTHENTICATION_TIMEOUT = STAFF_STEP_UP_SECONDS
ACCOUNT_REAUTHENTICATION_METHODS = ("password", "mfa")
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    # Failed sign-ins (password or second-factor code): per client IP and per username.
    "login_failed": "10/m/ip,5/5m/key",
    "reauthenticate": "10/m/user",
    "signup": "20/m/ip",
}
MFA_ADAPTER = "adminpanel.accounts.adapters.StaffMFAAdapter"
MFA_FORMS = {
    "add_webauthn": "adminpanel.accounts.forms.StaffAddWebAuthnForm",
    "authenticate_webauthn": "adminpanel.accounts.forms.StaffAuthenticateWebAuthnForm",
    "reauthenticate_webauthn": "adminpanel.accounts.forms.StaffReauthenticateWebAuthnForm",
}
MFA_SUPPORTED_TYPES = ["webauthn", "totp", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = False  # a passkey is the second factor, after the password
MFA_TOTP_ISSUER = "Authenticator Admin"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = False  # tests on http://localhost only, never here

SOCIALACCOUNT_ADAPTER = "adminpanel.accounts.adapters.StaffSocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # never attach an SSO identity to a local account by e-mail
SOCIALACCOUNT_LOGIN_ON_GET = False
OIDC_ISSUER_URL = envstr("OIDC_ISSUER_URL") or ""
OIDC_PROVIDER_NAME = envstr("OIDC_PROVIDER_NAME") or "single sign-on"
OIDC_GROUPS_CLAIM = envstr("OIDC_GROUPS_CLAIM") or "groups"
OIDC_ROLE_MAP = envstr("OIDC_ROLE_MAP") or ""
OIDC_TRUST_IDP_MFA = envbool("OIDC_TRUST_IDP_MFA", False)
OIDC_SIGNUP_WITHOUT_ROLE = envbool("OIDC_SIGNUP_WITHOUT_ROLE", True)
SOCIALACCOUNT_PROVIDERS: dict = {}
if OIDC_ISSUER_URL:
    # The SSO button's POST is answered with a redirect to the IdP, which form-action must allow.
    _issuer = urlsplit(OIDC_ISSUER_URL)
    SECURE_CSP["form-action"] = [*SECURE_CSP["form-action"], f"{_issuer.scheme}://{_issuer.netloc}"]  # type: ignore[misc]
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": "sso",
                "name": OIDC_PROVIDER_NAME,
                "client_id": envstr("OIDC_CLIENT_ID") or "",
                "secret": envstr("OIDC_CLIENT_SECRET") or "",
                "settings": {"server_url": OIDC_ISSUER_URL},
            }
        ],
    }
