"""Sign-in settings as an operator sets them: environment in, `manage.py check --deploy` and the values out."""

from __future__ import annotations

import json

from tests.core.test_settings import PRODUCTION, run_manage

SHOW = "from django.conf import settings as s; import json; print(json.dumps({k: getattr(s, k) for k in %r}))"


def settings_of(tmp_path, names: list[str], **env: str) -> dict:
    result = run_manage("shell", "-c", SHOW % names, APP_VAR_DIR=str(tmp_path), **{**PRODUCTION, **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_requires_the_second_factor_and_shares_the_cache(tmp_path):
    values = settings_of(
        tmp_path, ["STAFF_MFA_REQUIRED", "STAFF_STEP_UP_SECONDS", "STAFF_IDLE_TIMEOUT_SECONDS", "CACHES"]
    )
    assert values["STAFF_MFA_REQUIRED"] is True
    assert values["STAFF_STEP_UP_SECONDS"] == 300 and values["STAFF_IDLE_TIMEOUT_SECONDS"] == 900
    assert values["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    redis = settings_of(tmp_path, ["CACHES"], REDIS_URL="redis://cache.internal:6379/0")
    assert redis["CACHES"]["default"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://cache.internal:6379/0",
    }


def test_turning_the_second_factor_off_in_production_is_a_deploy_warning(tmp_path):
    env = {**PRODUCTION, "STAFF_MFA_REQUIRED": "0"}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", APP_VAR_DIR=str(tmp_path), **env)
    assert result.returncode != 0
    assert "adminpanel.W101" in result.stdout + result.stderr


def test_oidc_is_configured_from_the_environment(tmp_path):
    env = {
        "OIDC_ISSUER_URL": "https://example.okta.com",
        "OIDC_CLIENT_ID": "dashboard",
        "OIDC_CLIENT_SECRET": "s3cret",
        "OIDC_PROVIDER_NAME": "Okta",
        "OIDC_ROLE_MAP": "okta-support:Support,okta-sec:Security",
    }
    values = settings_of(tmp_path, ["SOCIALACCOUNT_PROVIDERS", "OIDC_TRUST_IDP_MFA", "SECURE_CSP"], **env)
    # The browser follows the SSO form's redirect to the IdP only if the CSP's form-action allows it.
    assert values["SECURE_CSP"]["form-action"] == ["'self'", "https://example.okta.com"]
    (app,) = values["SOCIALACCOUNT_PROVIDERS"]["openid_connect"]["APPS"]
    assert app == {
        "provider_id": "sso",
        "name": "Okta",
        "client_id": "dashboard",
        "secret": "s3cret",
        "settings": {"server_url": "https://example.okta.com"},
    }
    assert values["OIDC_TRUST_IDP_MFA"] is False
    assert settings_of(tmp_path, ["SOCIALACCOUNT_PROVIDERS"])["SOCIALACCOUNT_PROVIDERS"] == {}


def test_a_role_map_naming_an_unknown_role_fails_the_checks(tmp_path):
    result = run_manage("check", APP_VAR_DIR=str(tmp_path), **{**PRODUCTION, "OIDC_ROLE_MAP": "okta-admin:Admin"})
    assert result.returncode != 0
    assert "adminpanel.E101" in result.stderr and "okta-admin:Admin" in result.stderr


def test_the_demo_keeps_the_second_factor_optional_unless_asked(tmp_path):
    optional = run_manage("demo", "--no-serve", APP_VAR_DIR=str(tmp_path))
    assert optional.returncode == 0, optional.stderr
    assert "Second factor optional (demo)" in optional.stdout
    required = run_manage("demo", "--no-serve", "--mfa", APP_VAR_DIR=str(tmp_path))
    assert required.returncode == 0, required.stderr
    assert "Second factor required" in required.stdout


def test_the_deploy_checks_name_each_unsafe_sign_in_setting(settings):
    from adminpanel.accounts.checks import check_second_factor_required, check_sso_role_map

    settings.STAFF_MFA_REQUIRED = True
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "t"}}
    assert check_second_factor_required(None) == []
    settings.STAFF_MFA_REQUIRED = False
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [w.id for w in check_second_factor_required(None)] == [
        "adminpanel.W101",
        "adminpanel.W102",
        "adminpanel.W103",
    ]
    settings.OIDC_ROLE_MAP = "okta-sec:Security,broken"
    assert [e.id for e in check_sso_role_map(None)] == ["adminpanel.E101"]
