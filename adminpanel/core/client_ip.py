"""The staff member's IP address, taken one way for the audit log and the sign-in rate limits alike."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind a trusted proxy (AUDIT_TRUST_X_FORWARDED_FOR) the address it saw; "" if unusable."""
    ip = request.META.get("REMOTE_ADDR", "")
    if settings.AUDIT_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            # The proxy appends the address it saw; anything to its left came from the client and may be forged.
            ip = forwarded.split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return ""
