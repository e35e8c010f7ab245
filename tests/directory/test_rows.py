"""The authenticators table's rows are rendered in Python: every outside value escaped, every link right."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from django.urls import resolve

from adminpanel.authsignal.types import Authenticator
from adminpanel.directory.rows import authenticator_rows

HOSTILE = '<script>alert("x")</script>\'&'


def authenticator(**fields: object) -> Authenticator:
    return Authenticator.from_api(
        {"userAuthenticatorId": "a1", "verificationMethod": "SMS", "createdAt": "2026-01-01T00:00:00.000Z", **fields}
    )


def test_outside_values_are_escaped_everywhere():
    passkey = authenticator(
        userAuthenticatorId='"><img src=x>',
        verificationMethod="PASSKEY",
        webauthnCredential={
            "credentialId": "c",
            "name": HOSTILE,
            "aaguid": HOSTILE,
            "aaguidMapping": {"name": HOSTILE, "svgIconLight": 'data:image/svg+xml," onerror="x'},
            "parsedUserAgent": {"ua": HOSTILE, "browser": {"name": HOSTILE, "major": "1"}, "os": {"name": "x"}},
        },
    )
    html = str(authenticator_rows([passkey], user_id="u", can_remove=True))
    assert "<script>" not in html and "<img src=x>" not in html and 'onerror="x' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#x27;&amp;" in html


@pytest.mark.django_db
def test_remove_links_resolve_to_the_right_user_and_authenticator():
    rows = [authenticator(userAuthenticatorId="a b%c"), authenticator(userAuthenticatorId="plain-uuid")]
    html = str(authenticator_rows(rows, user_id="team/ops 7", can_remove=True))
    hrefs = [part.split('"')[0] for part in html.split('href="')[1:]]
    matches = [resolve(unquote(href.replace("&amp;", "&"))) for href in hrefs]  # as the server decodes the path
    assert [(m.kwargs["user_id"], m.kwargs["authenticator_id"]) for m in matches] == [
        ("team/ops 7", "a b%c"),
        ("team/ops 7", "plain-uuid"),
    ]


def test_without_the_remove_permission_there_is_no_action_cell():
    html = str(authenticator_rows([authenticator()], user_id="u", can_remove=False))
    assert "Remove" not in html and 'class="actions"' not in html
