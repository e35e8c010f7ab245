"""Showing text that came from outside (user ids, names, passkey names) so it cannot pass itself off as other text.

Control characters are drawn visibly (NUL as ␀, a right-to-left override as ⟨U+202E⟩), so no invisible
character can reorder or hide a name, and in HTML the text is isolated from what surrounds it (`<bdi>`), so a
right-to-left name cannot pull its neighbours along. A user id that is an email address or a phone number is
a contact, and is masked like one.
"""

from __future__ import annotations

import re

from adminpanel.core.masking import is_contact, mask_contact

# C0 and C1 controls and DEL: never legitimate in an id or a name.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Characters that reorder or hide text: bidi embeddings/overrides/isolates, marks, zero-width characters.
_INVISIBLE = re.compile(r"[\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
# Zero-width (non-)joiners make emoji and some scripts render correctly in a name, but have no place in an id.
_JOINERS = re.compile(r"[\u200c\u200d]")


def has_control_characters(value: str) -> bool:
    """Does an identifier hold characters the dashboard refuses to act on (NUL, escapes, other C0/C1 controls)?"""
    return bool(_CONTROL.search(value or ""))


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode "control pictures": ␀ ␁ … ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"⟨U+{code:04X}⟩"


def visible(value: str, *, identifier: bool = False) -> str:
    """The text with every control and invisible formatting character replaced by a visible stand-in."""
    text = _INVISIBLE.sub(_picture, _CONTROL.sub(_picture, value or ""))
    return _JOINERS.sub(_picture, text) if identifier else text


def shown_id(value: str) -> str:
    """A user id as staff see it: masked when it is a contact, control characters visible."""
    return mask_contact(value.strip()) if is_contact(value) else visible(value, identifier=True)
