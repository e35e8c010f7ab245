"""What went wrong, for the agent: a message and the HTTP status that fits it, from refusals and Authsignal errors."""

from __future__ import annotations

from dataclasses import dataclass

from adminpanel.authsignal.errors import AuthsignalError, RateLimited, Unavailable


@dataclass
class Problem:
    """A refusal or failure to show the agent: the message and the HTTP status that fits it."""

    message: str
    status: int
    retry_after: float | None = None


def upstream_problem(exc: AuthsignalError) -> Problem:
    if isinstance(exc, RateLimited):
        return Problem(str(exc), 503, exc.retry_after)
    return Problem(str(exc), 504 if isinstance(exc, Unavailable) and exc.status is None else 502)
