"""An Authsignal failure as the agent sees it: a message in words and the HTTP status that fits it."""

from __future__ import annotations

from adminpanel.authsignal.errors import AuthsignalError, RateLimited, Unavailable
from adminpanel.core.problems import Problem


def upstream_problem(exc: AuthsignalError) -> Problem:
    if isinstance(exc, RateLimited):
        return Problem(str(exc), 503, exc.retry_after)
    return Problem(str(exc), 504 if isinstance(exc, Unavailable) and exc.status is None else 502)
