"""User ids with `/`, `~`, dots, `%`, `?`, `#`, spaces and unicode route to the right view and back."""

from __future__ import annotations

import pytest
from django.urls import resolve, reverse

from adminpanel.directory.urlids import decode_user_id, encode_user_id

HOSTILE_IDS = [
    "alice@example.com",
    "123:test",
    "victim/authenticators/x",
    "../x",
    "..",
    ".",
    "...",
    "a?b#c",
    "100%",
    "%2F",
    "with space",
    "ærøskøbing:42",
    "~tilde~",
    "~2F",
    "a/b/authenticators/enroll",
    "🙂",
    "x" * 300,
]


@pytest.mark.parametrize("user_id", HOSTILE_IDS)
def test_encoding_round_trips(user_id):
    assert decode_user_id(encode_user_id(user_id)) == user_id
    assert "/" not in encode_user_id(user_id)


@pytest.mark.parametrize("user_id", HOSTILE_IDS)
@pytest.mark.parametrize(("name", "extra"), [("detail", []), ("enroll", []), ("remove", ["auth-1"]), ("reveal", [])])
def test_every_route_finds_its_view_and_the_exact_user_id(user_id, name, extra):
    from urllib.parse import unquote

    url = reverse(f"users:{name}", args=[user_id, *extra])
    match = resolve(unquote(url))  # as the server sees it: percent-decoded before routing
    assert match.view_name == f"users:{name}"
    assert match.kwargs["user_id"] == user_id


def test_a_user_id_cannot_smuggle_another_route():
    url = reverse("users:detail", args=["victim/authenticators/x/remove"])
    assert url.count("/") == 3  # /users/<one segment>/


@pytest.mark.parametrize("segment", ["~", "~zz", "a~1", "~2"])
def test_malformed_escapes_are_not_found(client, support_user, segment):
    client.force_login(support_user)
    assert client.get(f"/users/{segment}/").status_code == 404


def test_a_percent_encoded_slash_does_not_reach_another_view(client, support_user):
    client.force_login(support_user)
    assert client.get("/users/victim%2Fauthenticators%2Fx/").status_code == 404
