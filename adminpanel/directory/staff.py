"""Who acts on the support desk: a staff member and the request they act through; their audit entries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest

from adminpanel.accounts.decorators import staff_user
from adminpanel.accounts.roles import perm
from adminpanel.audit.models import AuditEvent
from adminpanel.audit.services import record


@dataclass(frozen=True)
class Staff:
    """Who acts, and the request they act through (None for background jobs)."""

    user: User
    request: HttpRequest | None = None

    @classmethod
    def of(cls, request: HttpRequest) -> Staff:
        """The signed-in staff member of a request (views run behind LoginRequiredMiddleware and @requires)."""
        return cls(staff_user(request), request)

    def can(self, codename: str) -> bool:
        return self.user.has_perm(perm(codename))

    def audit(self, action: str, outcome: str, **fields: Any) -> AuditEvent:
        return record(action, outcome, request=self.request, actor=self.user, **fields)
