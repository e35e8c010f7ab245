"""The dashboard's date formats, one per use, the same on every page and in every message (times are UTC)."""

from __future__ import annotations

from datetime import datetime

from django.utils.timezone import localtime


# Django's |date goes through the localisation machinery on every call; a table of authenticators or events
# formats a hundred dates per page, so these fixed English formats are done directly.
def day(value: datetime | None) -> str:
    """26 Nov 2026"""
    return f"{(v := localtime(value)).day} {v:%b %Y}" if value else ""


def day_time(value: datetime | None) -> str:
    """26 Nov 2026 10:52"""
    return f"{(v := localtime(value)).day} {v:%b %Y %H:%M}" if value else ""


def stamp(value: datetime | None) -> str:
    """2026-11-26 10:52:07"""
    return f"{localtime(value):%Y-%m-%d %H:%M:%S}" if value else ""
