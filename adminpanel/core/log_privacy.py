"""Keeps contacts and user ids out of log lines: a filter for every logging handler, and gunicorn's access log.

Masked the way the audit log masks them: emails and phone numbers keep a recognisable shape, user ids in
`/users/<id>/` paths and every query-string value except a few harmless ones are shortened. A log line is
shipped to places (log aggregators, tickets, screenshots) that the audit log's access rules never reach.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote

from adminpanel.core.masking import mask_contact, mask_identifier

# An address written plainly or URL-encoded (`alice%40example.com`).
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+(?:@|%40)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# A phone number with its country code: `+14155550101`, `+44 7700 900123`, `%2B14155550101`.
_PHONE = re.compile(r"(?:\+|%2B)\d(?:[\s().-]?\d){6,16}")
# A user id in one of our or Authsignal's paths: /users/<id>/… (ours are ~XX-encoded, Authsignal's %-encoded).
_USER_PATH = re.compile(r"(/users/)([^/?#\s\"']+)")
# Query values: everything but a few keys whose values never identify anyone.
_QUERY_VALUE = re.compile(r"([?&;]([A-Za-z_][\w.\-]*)=)([^&#\s\"']*)")
_HARMLESS_KEYS = frozenset(
    {"limit", "before", "after", "method", "format", "outcome", "action", "since", "until", "field", "page", "codes"}
)
MASK = "…"


def mask_log_text(text: str) -> str:
    """The text with every email, phone number, user id in a path and identifying query value masked."""
    if not text:
        return text
    text = _USER_PATH.sub(lambda m: m.group(1) + _masked_segment(m.group(2)), text)
    text = _QUERY_VALUE.sub(_masked_query_value, text)
    text = _EMAIL.sub(lambda m: mask_contact(unquote(m.group(0))), text)
    return _PHONE.sub(lambda m: mask_contact(unquote(m.group(0)).replace(" ", "")), text)


def _masked_segment(segment: str) -> str:
    if re.match(r"\{\w+\}", segment):
        return segment  # a route template (`/users/{userId}`), not an id
    decoded = unquote(segment.replace("~", "%"))  # our own ~XX encoding, then percent-encoding
    return mask_identifier(decoded).replace(" ", "")


def _masked_query_value(match: re.Match[str]) -> str:
    key, value = match.group(2), match.group(3)
    if not value or key in _HARMLESS_KEYS:
        return match.group(0)
    return match.group(1) + mask_identifier(unquote(value.replace("+", " "))).replace(" ", "")


class MaskPersonalData(logging.Filter):
    """Rewrites each record's message (and its formatted traceback) with mask_log_text; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's problem to report, not ours to hide
            return True
        record.msg, record.args = mask_log_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_log_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_log_text(record.stack_info)
        return True


def mask_atoms(atoms: dict[str, Any]) -> dict[str, Any]:
    """gunicorn's access-log atoms (request line, path, query, referer…) with the same masking."""
    return {key: mask_log_text(value) if isinstance(value, str) else value for key, value in atoms.items()}
