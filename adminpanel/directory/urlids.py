"""A reversible URL encoding for Authsignal user ids, which may hold `/`, `~` or be `.`/`..`.

Servers decode `%2F` before routing, so a `/` inside a user id cannot be sent percent-encoded. We escape the few
characters a path segment cannot carry with `~XX` (and `~` itself), leaving ordinary ids readable in the URL:
`alice@example.com` stays as it is, `team/alice` becomes `team~2Falice`, `..` becomes `~2E~2E`.
"""

from __future__ import annotations

import re

_ESCAPES = {"~": "~7E", "/": "~2F"}
_UNESCAPES = {"7E": "~", "2F": "/", "2E": "."}
_TOKEN = re.compile(r"~(..)?")


def encode_user_id(user_id: str) -> str:
    if not user_id:
        raise ValueError("a user id cannot be empty")
    if set(user_id) == {"."}:  # `.` and `..` would be resolved away by browsers and proxies
        return "~2E" * len(user_id)
    return "".join(_ESCAPES.get(ch, ch) for ch in user_id)


def decode_user_id(segment: str) -> str:
    def unescape(match: re.Match[str]) -> str:
        code = (match.group(1) or "").upper()
        if code not in _UNESCAPES:
            raise ValueError(f"malformed escape in user id segment {segment!r}")
        return _UNESCAPES[code]

    value = _TOKEN.sub(unescape, segment)
    if not value:
        raise ValueError("a user id cannot be empty")
    return value


class UserIdConverter:
    """`<user_id:...>` path converter: one path segment, decoded with decode_user_id (malformed → 404)."""

    regex = r"[^/]+"

    def to_python(self, value: str) -> str:
        return decode_user_id(value)

    def to_url(self, value: str) -> str:
        return encode_user_id(value)
