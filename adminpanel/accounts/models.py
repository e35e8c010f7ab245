"""Staff capabilities as Django permissions; the model has no table, it only anchors the permissions."""

from __future__ import annotations

from django.db import models

from adminpanel.accounts.roles import PERMISSIONS


class StaffCapability(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = list(PERMISSIONS.items())

    def __str__(self) -> str:
        return "staff capability"
