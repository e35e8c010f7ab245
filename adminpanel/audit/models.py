"""The audit log: append-only events in an HMAC chain, and the results of verifying that chain."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models.functions import Substr
from django.utils import timezone

GENESIS_HASH = "0" * 64
TICKET_INDEX_PREFIX = 128  # btree entries have a size limit; tickets are indexed on this prefix


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit event."""


class Outcome(models.TextChoices):
    REQUESTED = "requested", "requested"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"
    DENIED = "denied", "denied"


class Action:
    """The actions the product records; actions are free dotted strings, these are the known ones."""

    USER_SEARCH = "user.search"
    USER_VIEW = "user.view"
    PII_REVEAL = "pii.reveal"
    AUTHENTICATOR_ENROLL = "authenticator.enroll"
    AUTHENTICATOR_REMOVE = "authenticator.remove"
    LOCKOUT_OVERRIDE = "lockout.override"
    AUDIT_EXPORT = "audit.export"
    AUDIT_VERIFY = "audit.verify"
    KEY_ROTATED = "audit.key_rotated"  # succeeded: the first event of a new chain segment (see audit/keys.py)
    BULK_JOB = "bulk.job"
    STAFF_LOGIN = "staff.login"
    STAFF_LOGOUT = "staff.logout"
    ACCESS_DENIED = "access.denied"
    # Changes to staff accounts and roles (adminpanel.accounts.audit_trail)
    STAFF_CREATED = "staff.created"
    STAFF_DELETED = "staff.deleted"
    STAFF_ACTIVATED = "staff.activated"
    STAFF_DEACTIVATED = "staff.deactivated"
    STAFF_PRIVILEGES = "staff.privileges"
    STAFF_RENAMED = "staff.renamed"
    STAFF_PASSWORD = "staff.password"
    STAFF_ROLES = "staff.roles"
    STAFF_PERMISSIONS = "staff.permissions"
    ROLE_PERMISSIONS = "role.permissions"
    # Staff sign-in beyond the password (adminpanel/accounts/signals.py); never a secret or a code in details.
    STAFF_SECOND_FACTOR_ADD = "staff.second_factor.add"
    STAFF_SECOND_FACTOR_REMOVE = "staff.second_factor.remove"
    STAFF_SECOND_FACTOR_RESET = "staff.second_factor.reset"
    STAFF_SECOND_FACTOR_USE = "staff.second_factor.use"
    STAFF_RECOVERY_CODE_USE = "staff.recovery_code.use"
    STAFF_STEP_UP = "staff.step_up"
    STAFF_SESSION_EXPIRE = "staff.session.expire"
    STAFF_SSO_SIGNUP = "staff.sso.signup"

    ALL = (
        USER_SEARCH,
        USER_VIEW,
        PII_REVEAL,
        AUTHENTICATOR_ENROLL,
        AUTHENTICATOR_REMOVE,
        LOCKOUT_OVERRIDE,
        AUDIT_EXPORT,
        AUDIT_VERIFY,
        KEY_ROTATED,
        BULK_JOB,
        STAFF_LOGIN,
        STAFF_LOGOUT,
        ACCESS_DENIED,
        STAFF_CREATED,
        STAFF_DELETED,
        STAFF_ACTIVATED,
        STAFF_DEACTIVATED,
        STAFF_PRIVILEGES,
        STAFF_RENAMED,
        STAFF_PASSWORD,
        STAFF_ROLES,
        STAFF_PERMISSIONS,
        ROLE_PERMISSIONS,
        STAFF_SECOND_FACTOR_ADD,
        STAFF_SECOND_FACTOR_REMOVE,
        STAFF_SECOND_FACTOR_RESET,
        STAFF_SECOND_FACTOR_USE,
        STAFF_RECOVERY_CODE_USE,
        STAFF_STEP_UP,
        STAFF_SESSION_EXPIRE,
        STAFF_SSO_SIGNUP,
    )


def _refuse(what: str) -> NoReturn:
    raise AppendOnlyError(f"the audit log is append-only: {what} refused (write with adminpanel.audit.services.record)")


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        _refuse("update")

    def delete(self) -> NoReturn:
        _refuse("delete")

    def _raw_delete(self, using: Any) -> NoReturn:
        _refuse("delete")

    def bulk_update(self, objs: Any, fields: Any, batch_size: Any = None) -> NoReturn:
        _refuse("bulk_update")

    def update_or_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("update_or_create")


class AuditEvent(models.Model):
    """One staff action (or its outcome). Written only by services.record(); never changed or deleted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seq = models.BigIntegerField(unique=True, help_text="Position in the chain: 1, 2, 3, … with no gaps.")
    created_at = models.DateTimeField(help_text="UTC; never decreases along the chain.")
    # No database constraint, no cascade: deleting a staff account must not touch (or be blocked by) the log.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    actor_ip = models.CharField(max_length=45, blank=True)
    actor_user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=64)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    correlation_id = models.UUIDField()
    user_id = models.CharField(max_length=255, blank=True, help_text="The end-user (Authsignal user id).")
    authenticator_id = models.CharField(max_length=255, blank=True)
    verification_method = models.CharField(max_length=32, blank=True)
    reason = models.TextField(blank=True)
    ticket = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        default_permissions = ("view",)
        indexes = [
            # Each filter of the auditor list walks (field, seq) newest first: keyset pages stay index seeks.
            models.Index(fields=["actor_username", "seq"], name="audit_actor_seq"),
            models.Index(fields=["user_id", "seq"], name="audit_user_seq"),
            models.Index(fields=["action", "seq"], name="audit_action_seq"),
            models.Index(fields=["outcome", "seq"], name="audit_outcome_seq"),
            models.Index(Substr("ticket", 1, TICKET_INDEX_PREFIX), "seq", name="audit_ticket_seq"),
            models.Index(fields=["created_at", "seq"], name="audit_created_seq"),
            models.Index(fields=["correlation_id", "seq"], name="audit_correlation_seq"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            _refuse("update")
        if not self.hash or not self.seq:
            raise AppendOnlyError("audit events are written only through adminpanel.audit.services.record")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("delete")


class ChainVerification(models.Model):
    """The result of one `audit verify` run; kept outside the audit table so the log stays append-only."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    ok = models.BooleanField()
    events_checked = models.BigIntegerField(default=0)
    head_seq = models.BigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, blank=True)
    first_bad_seq = models.BigIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    source = models.CharField(max_length=32, blank=True, help_text="command, ui, task")
    triggered_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-finished_at"]
        get_latest_by = "finished_at"

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'BROKEN'} at {self.finished_at:%Y-%m-%d %H:%M:%S}"


# --- Background work: verification runs and prepared exports (ordinary data, not the append-only log) ---


class JobStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    DONE = "done", "done"
    FAILED = "failed", "failed"
    EXPIRED = "expired", "expired"


class VerificationRequest(models.Model):
    """One "Verify now" click, run by a background worker; at most one is queued or running at a time."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_username = models.CharField(max_length=150, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    # True while queued or running, NULL afterwards: a unique column holds many NULLs but only one True,
    # so two clicks at the same moment cannot both queue a run (on PostgreSQL and SQLite alike).
    active = models.BooleanField(null=True, blank=True, unique=True, default=True)
    task_id = models.CharField(max_length=64, blank=True)
    verification = models.ForeignKey(
        ChainVerification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"verification {self.status} ({self.requested_by_username})"


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSONL = "jsonl", "JSON Lines"


class AuditExport(models.Model):
    """An export of a large filter, written to a private file by a background worker for its requester."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    format = models.CharField(max_length=8, choices=ExportFormat.choices)
    filter_params = models.JSONField(default=dict, blank=True, help_text="The list filter's query parameters.")
    up_to_seq = models.BigIntegerField(help_text="The export covers the matching events up to this seq.")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    rows_written = models.BigIntegerField(default=0)
    total_estimate = models.BigIntegerField(null=True, blank=True)
    file_path = models.CharField(max_length=255, blank=True, help_text="File name inside VAR_DIR/exports.")
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], name="audit_export_created")]

    def __str__(self) -> str:
        return f"{self.format} export {self.status}"

    # Queued or running for longer than this, the export was lost with its worker (1,000,000 events take a minute).
    ABANDONED_AFTER = dt.timedelta(hours=2)

    @property
    def in_progress(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)

    @property
    def abandoned(self) -> bool:
        """Still marked in progress long after any worker would have finished: shown as lost, not polled.

        `manage.py cleanup` then marks it failed and removes its part file; a page view never writes.
        """
        return self.in_progress and timezone.now() - self.created_at > self.ABANDONED_AFTER

    @property
    def polling(self) -> bool:
        return self.in_progress and not self.abandoned

    @property
    def percent(self) -> int | None:
        if not self.total_estimate:
            return 100 if self.status == JobStatus.DONE else None
        return min(100, self.rows_written * 100 // self.total_estimate)

    @property
    def elapsed_seconds(self) -> int:
        start = self.started_at or self.created_at
        end = self.finished_at or timezone.now()
        return max(0, int((end - start).total_seconds()))
