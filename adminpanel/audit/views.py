"""The auditors' views: the filtered log, one event in its chain, exports (streamed or prepared), verify now;
and the 403 handler."""

from __future__ import annotations

import json
import logging
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import push_url

from adminpanel.accounts.decorators import requires, staff_user
from adminpanel.audit import background, exports, services
from adminpanel.audit.forms import AuditFilterForm, ExportRequestForm, cursor_param
from adminpanel.audit.models import Action, AuditEvent, AuditExport, JobStatus, Outcome
from adminpanel.core.rendering import HtmxHttpRequest, render_page

logger = logging.getLogger(__name__)
PAGE_SIZE = 50


def _export_context(form: AuditFilterForm, *, decided: bool, background_export: bool = False) -> dict:
    return {
        "filter_qs": form.query_string(),
        "filter_params": form.filter_params(),
        "export_decided": decided,
        "background_export": background_export,
        "background_export_over": settings.AUDIT_EXPORT_BACKGROUND_OVER,
        "export_formats": [("csv", "CSV"), ("jsonl", "JSONL")],
    }


@require_GET
@requires("view_audit")
def export_options(request: HtmxHttpRequest) -> HttpResponse:
    """Streamed download or prepared in the background? Asked apart from the list, so the list stays fast."""
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "audit/event_list.html#export_options", _export_context(form, decided=False))
    needs = background.export_needs_background(services.filtered_events(form.to_filter()))
    return render(
        request, "audit/event_list.html#export_options", _export_context(form, decided=True, background_export=needs)
    )


def _without_empty_parameters(request: HttpRequest) -> str:
    """The URL as it should be pasted into a ticket: `?actor=&user=&action=user.view` becomes `?action=user.view`."""
    kept = [(key, value) for key, values in request.GET.lists() for value in values if value.strip()]
    return request.path + (f"?{urlencode(kept)}" if kept else "")


@require_GET
@requires("view_audit")
def event_list(request: HtmxHttpRequest) -> HttpResponse:
    clean_url = _without_empty_parameters(request)
    if not request.htmx and clean_url != request.get_full_path():
        return redirect(clean_url)
    return _list_page(request, AuditFilterForm(request.GET), clean_url=clean_url)


def _list_page(
    request: HtmxHttpRequest, form: AuditFilterForm, *, clean_url: str = "", problem: str = ""
) -> HttpResponse:
    """The list, or for htmx its results (and the filter form again when it has errors); 422 for a bad filter."""
    if form.is_valid():
        matching = services.filtered_events(form.to_filter())
        page = services.event_page(
            matching,
            before=cursor_param(request.GET.get("before")),
            after=cursor_param(request.GET.get("after")),
            size=PAGE_SIZE,
        )
    else:
        page = services.EventPage(events=[], newer_cursor=None, older_cursor=None)
    context = {
        "form": form,
        "page": page,
        "filter_qs": form.query_string(),
        "link_suffix": f"?{form.query_string()}" if form.query_string() else "",
        "filters_oob": bool(request.htmx) and (bool(form.errors) or request.htmx.trigger == "audit-filters"),
        "export_problem": problem,
        **_export_context(form, decided=False),
        **_chain_status_context(),
    }
    status = 200 if form.is_valid() and not problem else 422
    response = render_page(request, "audit/event_list.html", context, partial="results", status=status)
    if request.htmx and clean_url:
        push_url(response, clean_url)
    return response


@require_GET
@requires("view_audit")
def event_detail(request: HtmxHttpRequest, event_id: str) -> HttpResponse:
    event = get_object_or_404(AuditEvent, id=event_id)
    form = AuditFilterForm(request.GET)
    return render(
        request,
        "audit/event_detail.html",
        {
            "event": event,
            "details_json": json.dumps(event.details, indent=2, sort_keys=True, ensure_ascii=False),
            "correlated": services.correlated_events(event),
            "position": services.chain_position(event),
            "filter_qs": form.query_string(),
        },
    )


def _chain_status_context() -> dict[str, object]:
    return {"verification": services.last_verification(), "verification_running": background.current_verification()}


@require_POST
@requires("view_audit")
def verify_now(request: HtmxHttpRequest) -> HttpResponse:
    """Queues a verification of the whole chain for a worker (one at a time); the status box follows it."""
    run, queued = background.request_verification(staff_user(request), request)
    if request.htmx:
        return render_page(request, "audit/event_list.html", _chain_status_context(), partial="chain-status")
    if run is None or not queued:
        messages.warning(request, "A verification is already running; its result will show here when it finishes.")
    elif run.status == JobStatus.DONE and run.verification is not None:
        if run.verification.ok:
            messages.success(request, f"Chain verified: {run.verification.events_checked} events intact.")
        else:
            messages.error(request, f"The chain is broken. {run.verification.message}")
    elif run.status == JobStatus.FAILED:
        messages.error(request, f"The verification could not run: {run.error}")
    else:
        messages.success(request, "Verification started in the background; reload this page to see its result.")
    return redirect("audit:events-list")


@require_GET
@requires("view_audit")
def verify_status(request: HtmxHttpRequest) -> HttpResponse:
    """The chain-status box alone, polled by htmx while a verification runs."""
    return render(request, "audit/event_list.html#chain-status", _chain_status_context())


@require_GET
@requires("view_audit")
def export_csv(request: HtmxHttpRequest) -> HttpResponseBase:
    return _export(request, "csv")


@require_GET
@requires("view_audit")
def export_jsonl(request: HtmxHttpRequest) -> HttpResponseBase:
    return _export(request, "jsonl")


def _refuse_export(request: HtmxHttpRequest, form: AuditFilterForm, fmt: str) -> HttpResponse:
    """A bad filter or format: recorded, and the list again with what to fix (the same as a bad list filter)."""
    errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
    services.record(
        Action.AUDIT_EXPORT,
        Outcome.DENIED,
        request=request,
        details={"format": fmt[:16], "refused": "invalid_filter", "errors": errors},
    )
    problem = "Nothing was exported: " + (
        "choose CSV or JSON Lines." if "format" in form.errors else "fix the filter first."
    )
    return _list_page(request, AuditFilterForm(form.data), problem=problem)


def _export(request: HtmxHttpRequest, fmt: str) -> HttpResponseBase:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return _refuse_export(request, form, fmt)
    event_filter = form.to_filter()
    # The export is itself audited; it covers exactly the events recorded before it.
    marker = services.record(
        Action.AUDIT_EXPORT,
        Outcome.SUCCEEDED,
        request=request,
        details={"format": fmt, "filter": event_filter.as_dict()},
    )
    qs = services.filtered_events(event_filter)
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/jsonl; charset=utf-8"
    response = StreamingHttpResponse(exports.stream(fmt, qs, up_to_seq=marker.seq - 1), content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{fmt}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@requires("view_audit")
def export_create(request: HtmxHttpRequest) -> HttpResponse:
    """ "Prepare export": a worker writes the file; the requester follows it on its own page."""
    form = ExportRequestForm(request.POST)
    if not form.is_valid():
        return _refuse_export(request, form, request.POST.get("format", ""))
    export = background.request_export(request, form.cleaned_data["format"], form.filter_params(), form.to_filter())
    return redirect("audit:exports-detail", export_id=export.id)


def _own_export(request: HtmxHttpRequest, export_id: uuid.UUID) -> AuditExport:
    """Only the staff member who asked for an export may follow or download it."""
    export = get_object_or_404(AuditExport, id=export_id)
    if export.requested_by_id is None or export.requested_by_id != request.user.pk:
        raise PermissionDenied("only the staff member who requested this export may open it")
    return export


@require_GET
@requires("view_audit")
def export_detail(request: HtmxHttpRequest, export_id: uuid.UUID) -> HttpResponse:
    export = _own_export(request, export_id)
    context = {
        "export": export,
        "filter_items": sorted(export.filter_params.items()),
        "filter_qs": urlencode(export.filter_params),
    }
    return render_page(request, "audit/export_detail.html", context, partial="progress")


@require_GET
@requires("view_audit")
def export_download(request: HtmxHttpRequest, export_id: uuid.UUID) -> HttpResponseBase:
    export = _own_export(request, export_id)
    path = background.export_file(export)
    if path is None:
        raise Http404("This export is not ready, failed or has expired.")
    background.record_download(request, export)
    stamp = export.created_at.strftime("%Y%m%dT%H%M%SZ")
    content_type = "text/csv; charset=utf-8" if export.format == "csv" else "application/jsonl; charset=utf-8"
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=f"audit-{stamp}.{export.format}", content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a refused form post is a refusal like any other, answered 403 and recorded."""
    match = getattr(request, "resolver_match", None)
    details = {
        "refused": "csrf",
        "csrf_reason": reason[:200],
        "path": request.path[:500],
        "method": request.method,
        "view": match.view_name if match else "",
    }
    try:
        services.record(Action.ACCESS_DENIED, Outcome.DENIED, request=request, details=details)
    except DatabaseError:
        logger.exception("could not record a CSRF refusal for %s", request.path)
    template = "audit/csrf_failure_fragment.html" if getattr(request, "htmx", False) else "csrf_failure.html"
    return render(request, template, status=403)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler403: every refusal is answered 403 and recorded as access.denied."""
    match = getattr(request, "resolver_match", None)
    message = str(exception or "")
    details = {
        "path": request.path[:500],
        "method": request.method,
        "view": match.view_name if match else "",
        # @requires raises PermissionDenied("accounts.<codename>") to name the permission that was missing.
        "permission": message if message.startswith("accounts.") else "",
    }
    try:
        services.record(Action.ACCESS_DENIED, Outcome.DENIED, request=request, details=details)
    except DatabaseError:  # a refusal must still be a refusal when the log cannot be written
        logger.exception("could not record access.denied for %s", request.path)
    template = "audit/denied_fragment.html" if getattr(request, "htmx", False) else "403.html"
    return render(request, template, status=403)
