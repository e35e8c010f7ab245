"""The one exception family the Authsignal client raises, with messages a support agent can act on."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = [
    "AuthsignalError",
    "InvalidRequest",
    "NotFound",
    "RateLimited",
    "Unauthorized",
    "Unavailable",
    "error_for_status",
    "parse_retry_after",
    "seconds_text",
    "unexpected_shape",
]


def seconds_text(value: float) -> str:
    """2.0 -> "2 s", 0.5 -> "0.5 s": durations as staff read them in messages."""
    return f"{value:g} s"


class AuthsignalError(Exception):
    """Base of every error the client raises; `str(error)` is safe to show to staff."""

    default_message = "Authsignal could not complete the request."

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        description: str = "",
        attempts: int = 0,
    ) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)
        self.status = status  # HTTP status, None when no answer came back
        self.code = code  # Authsignal's errorCode / error, e.g. "invalid_request"
        self.description = description  # Authsignal's errorDescription, verbatim ("" if none)
        self.attempts = attempts  # how many times the request was sent (set by the client)

    def __str__(self) -> str:
        return self.message


class Unauthorized(AuthsignalError):
    """401: wrong secret key or wrong region base URL."""

    default_message = (
        "Authsignal refused the dashboard's API key (HTTP 401). "
        "An administrator should check AUTHSIGNAL_SECRET_KEY and the region URL."
    )


class InvalidRequest(AuthsignalError):
    """400, 422 and any other 4xx we have no better name for: Authsignal rejected what we sent."""

    default_message = "Authsignal rejected the request."


class NotFound(AuthsignalError):
    """404: the thing (e.g. an authenticator id) does not exist upstream."""

    default_message = "Authsignal has no such record."


class RateLimited(AuthsignalError):
    """429: we are calling too fast; `retry_after` (seconds) says when to try again, if Authsignal said."""

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: float | None = None,
        status: int | None = 429,
        code: str | None = None,
        description: str = "",
        attempts: int = 0,
    ) -> None:
        self.retry_after = retry_after
        if message is None:
            when = f"in {seconds_text(retry_after)}" if retry_after is not None else "in a moment"
            message = f"Authsignal is limiting how fast the dashboard may call it; try again {when}."
        super().__init__(message, status=status, code=code, description=description, attempts=attempts)


class Unavailable(AuthsignalError):
    """No usable answer: 5xx, timeouts, connection failures, or a body we cannot read.

    `outcome_unknown` is True when a change may have been applied before things went wrong
    (the request was sent but the answer was lost), so the caller must check before repeating it.
    """

    default_message = "Authsignal is not available right now; try again in a minute."

    def __init__(
        self,
        message: str | None = None,
        *,
        outcome_unknown: bool = False,
        status: int | None = None,
        code: str | None = None,
        description: str = "",
        attempts: int = 0,
    ) -> None:
        self.outcome_unknown = outcome_unknown
        super().__init__(message, status=status, code=code, description=description, attempts=attempts)


def unexpected_shape(detail: str) -> Unavailable:
    """The error for an answer that parsed but does not look like the documented API."""
    return Unavailable(f"Authsignal answered in an unexpected shape: {detail}.")


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """`Retry-After` in seconds from now (delta-seconds or an HTTP date); None if absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        # float() also accepts "nan"/"inf"; neither is a usable wait.
        return max(0.0, seconds) if seconds == seconds and seconds != float("inf") else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _error_fields(body: bytes) -> tuple[str | None, str]:
    """(code, description) from an error body; tolerant of non-JSON bodies and odd shapes."""
    try:
        data = json.loads(body) if body else None
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, Mapping):
        return None, ""
    # SDKs disagree on which key carries the code, so read both (see docs/authsignal-api.md, Errors).
    code = next((v for k in ("errorCode", "error") if isinstance(v := data.get(k), str) and v), None)
    description = next(
        (v for k in ("errorDescription", "message") if isinstance(v := data.get(k), str) and v),
        "",
    )
    return code, description


def error_for_status(status: int, body: bytes, headers: Mapping[str, str], *, what: str = "record") -> AuthsignalError:
    """The exception for a non-2xx answer; `what` names the target in messages ("authenticator")."""
    code, description = _error_fields(body)
    if status == 429:
        retry_after = parse_retry_after(headers.get("retry-after"))
        return RateLimited(retry_after=retry_after, status=status, code=code, description=description)
    cls: type[AuthsignalError]
    message: str | None = None
    if status == 401:
        cls = Unauthorized
    elif status == 404:
        cls, message = NotFound, f"Authsignal has no such {what}."
    elif 400 <= status < 500:
        reason = description or code or "no reason given"
        cls, message = InvalidRequest, f"Authsignal rejected the request: {reason} (HTTP {status})."
    elif status >= 500:
        cls, message = Unavailable, f"Authsignal is having trouble (HTTP {status}); try again in a minute."
    else:  # 1xx/3xx: we never follow redirects, and the API does not send them
        cls, message = Unavailable, f"Authsignal gave an unexpected answer (HTTP {status})."
    return cls(message, status=status, code=code, description=description)
