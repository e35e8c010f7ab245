"""The three staff roles and the permissions each holds (README, "Roles"); views check permissions."""

from __future__ import annotations

from typing import Any

# codename -> description; all live on accounts.StaffCapability, so they read "accounts.<codename>".
PERMISSIONS: dict[str, str] = {
    "view_directory": "Search and view users and their authenticators (PII masked)",
    "reveal_pii": "Reveal a user's full email or phone number (audited)",
    "enroll_authenticator": "Enroll a verified authenticator for a user",
    "remove_authenticator": "Remove an authenticator (lockout-guarded)",
    "override_lockout": "Override the lockout guard with a reason and ticket",
    "run_bulk_jobs": "Run bulk revocation jobs",
    "view_audit": "Read, filter, export the audit log and verify its chain",
}

SUPPORT, SECURITY, AUDITOR = "Support", "Security", "Auditor"

ROLE_PERMISSIONS: dict[str, list[str]] = {
    SUPPORT: ["view_directory", "reveal_pii", "enroll_authenticator", "remove_authenticator"],
    SECURITY: list(PERMISSIONS),
    AUDITOR: ["view_audit"],
}


def perm(codename: str) -> str:
    """The full permission name for a capability, e.g. perm("view_audit") == "accounts.view_audit"."""
    if codename not in PERMISSIONS:
        raise KeyError(codename)
    return f"accounts.{codename}"


def role_names(user: Any) -> list[str]:
    """The staff roles a user holds, for display."""
    if not user.is_authenticated:
        return []
    names = [g.name for g in user.groups.all() if g.name in ROLE_PERMISSIONS]
    if user.is_superuser:
        names.insert(0, "Superuser")
    return names


def sync_roles() -> None:
    """Creates the role groups with exactly their permissions (the data migration does this on migrate)."""
    from django.contrib.auth.models import Group, Permission

    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames))
