"""A real local OpenID Connect provider for SSO tests (npm oauth2-mock-server, driven by oidc_provider.mjs)."""

from __future__ import annotations

import json
import select
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.npmtools import PINS, npm_package

SCRIPT = Path(__file__).with_name("accounts") / "oidc_provider.mjs"


@dataclass
class Provider:
    issuer: str
    claims_file: Path


@pytest.fixture(scope="module")
def oidc_provider(tmp_path_factory) -> Iterator[Provider]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed for the SSO tests (apt-get install nodejs npm); .ci/run installs it")
    package = npm_package("oauth2-mock-server", PINS["oauth2-mock-server"])
    claims_file = tmp_path_factory.mktemp("oidc") / "claims.json"
    claims_file.write_text("{}")
    process = subprocess.Popen(
        [node, str(SCRIPT), str(package), str(claims_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 20)
        if not ready:
            pytest.fail("the local OIDC provider did not start within 20 s")
        line = process.stdout.readline()  # type: ignore[union-attr]
        if not line:
            pytest.fail(f"the local OIDC provider exited: {process.stderr.read()}")  # type: ignore[union-attr]
        yield Provider(json.loads(line)["issuer"], claims_file)
    finally:
        process.stdin.close()  # type: ignore[union-attr]
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def use_provider(settings, provider: Provider) -> Provider:  # type: ignore[no-untyped-def]
    """Points the dashboard at `provider` the way OIDC_* settings would (CSP form-action included)."""
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [
                {
                    "provider_id": "sso",
                    "name": "Okta",
                    "client_id": "authenticator-admin",
                    "secret": "local-test-secret",
                    "settings": {"server_url": provider.issuer},
                }
            ],
        }
    }
    issuer = urlsplit(provider.issuer)
    settings.SECURE_CSP = {
        **settings.SECURE_CSP,
        "form-action": [*settings.SECURE_CSP["form-action"], f"{issuer.scheme}://{issuer.netloc}"],
    }
    settings.OIDC_ROLE_MAP = "okta-support:Support,okta-sec:Security"
    settings.OIDC_GROUPS_CLAIM = "groups"
    return provider


def person(username: str, groups: list[str], amr: list[str] | None = None) -> dict:
    """The claims the provider signs for the next sign-in."""
    return {
        "sub": f"okta|{username}",
        "preferred_username": username,
        "email": f"{username}@example.com",
        "email_verified": True,
        "name": f"{username.title()} Example",
        "groups": groups,
        "amr": amr or ["pwd"],
    }
