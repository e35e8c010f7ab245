"""Support-desk state kept in our database: per-user lock leases and spent confirmation tokens."""

from __future__ import annotations

from django.db import models


class UserLease(models.Model):
    """A short lease on one Authsignal user, for databases without advisory locks (see locks.py)."""

    key = models.CharField(max_length=64, primary_key=True)  # sha256 of the user id
    owner = models.CharField(max_length=32)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"lease {self.key[:12]}… until {self.expires_at:%H:%M:%S}"


class SpentConfirmation(models.Model):
    """A removal confirmation token that has been used once; a second use is a replay."""

    nonce = models.CharField(max_length=32, primary_key=True)
    spent_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"confirmation {self.nonce} spent {self.spent_at:%Y-%m-%d %H:%M:%S}"
