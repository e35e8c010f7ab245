"""A refusal or failure to show a staff member: the message in words and the HTTP status that fits it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Problem:
    """A refusal or failure to show the agent: the message and the HTTP status that fits it."""

    message: str
    status: int
    retry_after: float | None = None
