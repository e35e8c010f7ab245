"""Audit work too slow for a request: chain verification and large exports, run by django.tasks workers.

The view queues (request_verification, request_export); the task (defined at the end of this module, so that
queueing needs no import cycle) runs the body (run_verification_request, write_export) through the same services
as `manage.py audit verify` and the streaming export.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.tasks import task
from django.utils import timezone

from adminpanel.audit import exports, services
from adminpanel.audit.models import (
    Action,
    AuditEvent,
    AuditExport,
    ExportFormat,
    JobStatus,
    Outcome,
    VerificationRequest,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest

logger = logging.getLogger(__name__)

# A run still queued or running after this long was lost with its worker: let a new click replace it.
VERIFICATION_ABANDONED_AFTER = dt.timedelta(hours=1)
EXPORT_ABANDONED_AFTER = AuditExport.ABANDONED_AFTER
EXPORTS_KEPT_FOR = dt.timedelta(days=7)
PROGRESS_EVERY = 0.5  # seconds between progress updates of a prepared export


# --- Verification ---


def current_verification() -> VerificationRequest | None:
    """The verification queued or running now, if any."""
    return VerificationRequest.objects.filter(active=True).first()


def request_verification(user: User, request: HttpRequest | None = None) -> tuple[VerificationRequest | None, bool]:
    """Queues a verification of the whole chain unless one is already queued or running.

    The click itself is recorded (`audit.verify` requested, correlated by the run's id); the worker records the
    outcome. A click while a run is going joins that run. Returns (the run, True) when this call queued it,
    (the run already going, False) otherwise.
    """
    release_abandoned_verifications()
    try:
        with transaction.atomic():
            run = VerificationRequest.objects.create(requested_by=user, requested_by_username=user.get_username())
    except IntegrityError:  # the unique `active` flag: another run is queued or running
        running = current_verification()
        _record_verify(user, request, Outcome.REQUESTED, running.id if running else None, {"joined_running": True})
        return running, False
    _record_verify(user, request, Outcome.REQUESTED, run.id, {})
    try:
        result = verify_chain_task.enqueue(str(run.id))
    except Exception as exc:
        _finish_verification(run.id, JobStatus.FAILED, error=f"could not queue the verification: {exc}")
        _record_verify(user, request, Outcome.FAILED, run.id, {"error": "could not queue the verification"})
        raise
    VerificationRequest.objects.filter(pk=run.pk).update(task_id=str(result.id)[:64])
    run.refresh_from_db()
    return run, True


def _record_verify(
    user: User | None,
    request: HttpRequest | None,
    outcome: str,
    run_id: uuid.UUID | None,
    details: dict[str, Any],
) -> None:
    services.record(
        Action.AUDIT_VERIFY,
        outcome,
        request=request,
        actor=user,
        correlation_id=run_id,
        details={"source": "ui", "background": True, **({"run_id": str(run_id)} if run_id else {}), **details},
    )


def run_verification_request(request_id: str) -> None:
    """The task body: verify the chain as `audit verify` does, then record audit.verify for the requester."""
    started = timezone.now()
    claimed = VerificationRequest.objects.filter(pk=request_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=started
    )
    if not claimed:  # already run (a retried task) or released as abandoned
        return
    run = VerificationRequest.objects.select_related("requested_by").get(pk=request_id)
    try:
        verification = services.run_verification(source="ui", triggered_by=run.requested_by_username)
        _record_verify(
            run.requested_by,
            None,
            Outcome.SUCCEEDED if verification.ok else Outcome.FAILED,
            run.id,
            {"head_seq": verification.head_seq, "first_bad_seq": verification.first_bad_seq},
        )
    except Exception as exc:
        _finish_verification(run.id, JobStatus.FAILED, error=str(exc) or type(exc).__name__)
        _record_verify(run.requested_by, None, Outcome.FAILED, run.id, {"error": str(exc)[:500] or type(exc).__name__})
        raise
    _finish_verification(run.id, JobStatus.DONE, verification_id=verification.pk)


def _finish_verification(request_id: Any, status: str, *, error: str = "", verification_id: int | None = None) -> None:
    VerificationRequest.objects.filter(pk=request_id).update(
        status=status, active=None, finished_at=timezone.now(), error=error[:2000], verification_id=verification_id
    )


def release_abandoned_verifications() -> None:
    VerificationRequest.objects.filter(
        active=True, requested_at__lt=timezone.now() - VERIFICATION_ABANDONED_AFTER
    ).update(
        status=JobStatus.FAILED,
        active=None,
        finished_at=timezone.now(),
        error="abandoned: no worker finished it within an hour",
    )


# --- Exports ---


def matches_more_than(qs: QuerySet[AuditEvent], limit: int) -> bool:
    """Whether more than `limit` events match, reading at most limit + 1 index entries (OFFSET probe, no COUNT)."""
    return bool(list(qs.order_by().values_list("seq", flat=True)[limit : limit + 1]))


def export_needs_background(qs: QuerySet[AuditEvent]) -> bool:
    return matches_more_than(qs, settings.AUDIT_EXPORT_BACKGROUND_OVER)


def exports_dir() -> Path:
    """Private to the app (never under static or media); web and workers must share it."""
    return Path(settings.VAR_DIR) / "exports"


def request_export(
    request: HttpRequest, fmt: str, filter_params: dict[str, str], event_filter: services.EventFilter
) -> AuditExport:
    """Records the (audited) request, stores it and queues the worker that writes the file."""
    fmt = ExportFormat(fmt).value
    export_id = uuid.uuid4()
    # Like the streaming export, it covers exactly the events recorded before it was asked for.
    marker = services.record(
        Action.AUDIT_EXPORT,
        Outcome.SUCCEEDED,
        request=request,
        details={
            "format": fmt,
            "filter": event_filter.as_dict(),
            "background": True,
            "step": "requested",
            "export_id": str(export_id),
            "rows": None,
        },
    )
    export = AuditExport.objects.create(
        id=export_id,
        requested_by=request.user if request.user.is_authenticated else None,
        format=fmt,
        filter_params=filter_params,
        up_to_seq=marker.seq - 1,
    )
    try:
        write_export_task.enqueue(str(export.id))
    except Exception as exc:
        AuditExport.objects.filter(pk=export.pk).update(
            status=JobStatus.FAILED, error=f"could not queue the export: {exc}", finished_at=timezone.now()
        )
        raise
    export.refresh_from_db()
    return export


def write_export(export_id: str) -> None:
    """The task body: writes the export file chunk by chunk (constant memory), counting rows as it goes."""
    from adminpanel.audit.forms import AuditFilterForm

    claimed = AuditExport.objects.filter(pk=export_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return
    export = AuditExport.objects.get(pk=export_id)
    directory = exports_dir()
    final = directory / f"{export.id}.{export.format}"
    partial = directory / f"{export.id}.{export.format}.part"
    try:
        form = AuditFilterForm(export.filter_params)
        if not form.is_valid():
            raise ValueError(f"the stored filter is no longer valid: {form.errors.as_text()}")
        event_filter = form.to_filter()
        qs = services.filtered_events(event_filter)
        total = _total(event_filter, qs, export.up_to_seq)
        AuditExport.objects.filter(pk=export.pk).update(total_estimate=total)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        rows = 0
        reported = time.monotonic()
        with open(partial, "wb") as out:
            os.chmod(partial, 0o600)
            for data, count, db_free in exports.formatted_chunks(export.format, qs, up_to_seq=export.up_to_seq):
                out.write(data)
                rows += count
                # The progress page polls every few seconds: one UPDATE per PROGRESS_EVERY is plenty.
                if db_free and count and time.monotonic() - reported >= PROGRESS_EVERY:
                    AuditExport.objects.filter(pk=export.pk).update(rows_written=rows)
                    reported = time.monotonic()
        os.replace(partial, final)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        AuditExport.objects.filter(pk=export.pk).update(
            status=JobStatus.FAILED, error=(str(exc) or type(exc).__name__)[:2000], finished_at=timezone.now()
        )
        raise
    AuditExport.objects.filter(pk=export.pk).update(
        status=JobStatus.DONE, rows_written=rows, file_path=final.name, finished_at=timezone.now()
    )


def _total(event_filter: services.EventFilter, qs: QuerySet[AuditEvent], up_to_seq: int) -> int:
    """How many rows the file will hold. seq is gap-free, so no filter costs nothing; otherwise one count,
    paid once by the worker (never by a page)."""
    if not event_filter.as_dict():
        return up_to_seq
    return qs.filter(seq__lte=up_to_seq).count()


def release_abandoned_exports() -> None:
    """An export whose worker died would poll forever: after a generous time it is failed and its part file removed."""
    stale = AuditExport.objects.filter(
        status__in=[JobStatus.QUEUED, JobStatus.RUNNING], created_at__lt=timezone.now() - EXPORT_ABANDONED_AFTER
    )
    for export in stale:
        (exports_dir() / f"{export.id}.{export.format}.part").unlink(missing_ok=True)
    stale.update(
        status=JobStatus.FAILED,
        finished_at=timezone.now(),
        error="abandoned: no worker finished it within two hours; prepare the export again",
    )


def export_file(export: AuditExport) -> Path | None:
    """The finished file, if it is still there."""
    if export.status != JobStatus.DONE or not export.file_path:
        return None
    path = exports_dir() / Path(export.file_path).name
    return path if path.is_file() else None


def record_download(request: HttpRequest, export: AuditExport) -> None:
    services.record(
        Action.AUDIT_EXPORT,
        Outcome.SUCCEEDED,
        request=request,
        details={
            "format": export.format,
            "filter": _filter_dict(export.filter_params),
            "background": True,
            "step": "downloaded",
            "export_id": str(export.id),
            "rows": export.rows_written,
        },
    )


def _filter_dict(filter_params: dict[str, str]) -> dict[str, str]:
    from adminpanel.audit.forms import AuditFilterForm

    form = AuditFilterForm(filter_params)
    return form.to_filter().as_dict() if form.is_valid() else dict(filter_params)


def purge_exports(older_than: dt.timedelta = EXPORTS_KEPT_FOR) -> tuple[int, int]:
    """Deletes the files of exports older than the cut-off and marks them expired: (exports, files deleted)."""
    cutoff = timezone.now() - older_than
    expired = files = 0
    for export in AuditExport.objects.filter(created_at__lt=cutoff).exclude(status=JobStatus.EXPIRED).iterator():
        for name in (export.file_path, f"{export.id}.{export.format}.part"):
            if name:
                path = exports_dir() / Path(name).name
                if path.is_file():
                    path.unlink()
                    files += 1
        AuditExport.objects.filter(pk=export.pk).update(status=JobStatus.EXPIRED, file_path="")
        expired += 1
    return expired, files


# --- The tasks (django.tasks, run by `manage.py db_worker`): thin, so the bodies above can be called directly ---


@task
def verify_chain_task(request_id: str) -> None:
    run_verification_request(request_id)


@task
def write_export_task(export_id: str) -> None:
    write_export(export_id)
